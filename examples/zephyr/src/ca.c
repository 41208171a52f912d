/* Replace with the PEM of the CA that signed your UTMStack's certificate. */
#include <stddef.h>
const unsigned char utm_ca_pem[] = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n";
const size_t utm_ca_pem_len = sizeof utm_ca_pem;
