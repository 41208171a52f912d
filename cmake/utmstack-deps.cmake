# Finds what utmstack.h needs: mbedTLS (2.28, 3.6 or 4.x) and jsmn.h.
# Sets UTMSTACK_DEP_INCLUDE_DIRS and UTMSTACK_DEP_LIBRARIES. Shared by the
# source tree's CMakeLists.txt and the installed utmstack-config.cmake.
if(NOT TARGET MbedTLS::mbedtls)
  find_package(MbedTLS CONFIG QUIET) # mbedTLS 3.x and 4.x install one; Debian's 2.28 does not
endif()
if(TARGET MbedTLS::mbedtls)
  if(TARGET MbedTLS::tfpsacrypto) # 4.x: the crypto is TF-PSA-Crypto's
    set(_utm_mbedtls MbedTLS::mbedtls MbedTLS::mbedx509 MbedTLS::tfpsacrypto)
  else()
    set(_utm_mbedtls MbedTLS::mbedtls MbedTLS::mbedx509 MbedTLS::mbedcrypto)
  endif()
else()
  find_path(UTMSTACK_MBEDTLS_INCLUDE_DIR mbedtls/ssl.h)
  find_library(UTMSTACK_MBEDTLS_LIBRARY mbedtls)
  find_library(UTMSTACK_MBEDX509_LIBRARY mbedx509)
  find_library(UTMSTACK_MBEDCRYPTO_LIBRARY mbedcrypto)
  if(NOT UTMSTACK_MBEDTLS_INCLUDE_DIR OR NOT UTMSTACK_MBEDTLS_LIBRARY OR NOT UTMSTACK_MBEDX509_LIBRARY
     OR NOT UTMSTACK_MBEDCRYPTO_LIBRARY)
    message(FATAL_ERROR "utmstack: mbedTLS not found (Debian: libmbedtls-dev; or set MbedTLS_DIR)")
  endif()
  set(_utm_mbedtls ${UTMSTACK_MBEDTLS_LIBRARY} ${UTMSTACK_MBEDX509_LIBRARY} ${UTMSTACK_MBEDCRYPTO_LIBRARY})
  list(APPEND _utm_includes ${UTMSTACK_MBEDTLS_INCLUDE_DIR})
endif()
find_path(UTMSTACK_JSMN_INCLUDE_DIR jsmn.h)
if(NOT UTMSTACK_JSMN_INCLUDE_DIR)
  message(FATAL_ERROR "utmstack: jsmn.h not found (Debian: libjsmn-dev; or set UTMSTACK_JSMN_INCLUDE_DIR)")
endif()
list(APPEND _utm_includes ${UTMSTACK_JSMN_INCLUDE_DIR})
set(UTMSTACK_DEP_INCLUDE_DIRS ${_utm_includes})
set(UTMSTACK_DEP_LIBRARIES ${_utm_mbedtls})
