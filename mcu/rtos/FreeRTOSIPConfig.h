/* FreeRTOS-Plus-TCP's configuration for the RTOS firmware: IPv4, DHCP from
 * qemu's user-mode network (10.0.2.15, the host at 10.0.2.2), TCP with
 * windows, the MPS2 LAN9118 interface without checksum offload,
 * BufferAllocation_2 (buffers from the kernel's heap).                     */
#ifndef FREERTOS_IP_CONFIG_H
#define FREERTOS_IP_CONFIG_H

#define ipconfigBYTE_ORDER                       pdFREERTOS_LITTLE_ENDIAN
#define ipconfigUSE_IPv4                         1
#ifndef ipconfigUSE_IPv6
#define ipconfigUSE_IPv6                         0
#endif
#define ipconfigUSE_DHCP                         1
#define ipconfigUSE_DHCP_HOOK                    0
#define ipconfigDHCP_REGISTER_HOSTNAME           0
#define ipconfigUSE_DNS                          1
#define ipconfigUSE_DNS_CACHE                    0
#define ipconfigDNS_USE_CALLBACKS                0
#define ipconfigUSE_LLMNR                        0
#define ipconfigUSE_NBNS                         0
#define ipconfigUSE_TCP                          1
#define ipconfigUSE_TCP_WIN                      1
#define ipconfigTCP_MSS                          1460
#define ipconfigTCP_TX_BUFFER_LENGTH             (4 * ipconfigTCP_MSS)
#define ipconfigTCP_RX_BUFFER_LENGTH             (8 * ipconfigTCP_MSS)
#define ipconfigNETWORK_MTU                      1500
#define ipconfigNUM_NETWORK_BUFFER_DESCRIPTORS   24
#define ipconfigEVENT_QUEUE_LENGTH               (ipconfigNUM_NETWORK_BUFFER_DESCRIPTORS + 5)
#define ipconfigDRIVER_INCLUDED_TX_IP_CHECKSUM   0
#define ipconfigDRIVER_INCLUDED_RX_IP_CHECKSUM   0
#define ipconfigZERO_COPY_RX_DRIVER              0
#define ipconfigZERO_COPY_TX_DRIVER              0
#define ipconfigIP_TASK_PRIORITY                 (configMAX_PRIORITIES - 2)
#define ipconfigIP_TASK_STACK_SIZE_WORDS         (configMINIMAL_STACK_SIZE * 5)
#define ipconfigUSE_NETWORK_EVENT_HOOK           1
#define ipconfigSUPPORT_OUTGOING_PINGS           0
#define ipconfigREPLY_TO_INCOMING_PINGS          1
#define ipconfigHAS_PRINTF                       0
#define ipconfigHAS_DEBUG_PRINTF                 0
#define ipconfigSOCK_DEFAULT_RECEIVE_BLOCK_TIME  pdMS_TO_TICKS(10000)
#define ipconfigSOCK_DEFAULT_SEND_BLOCK_TIME     pdMS_TO_TICKS(10000)
#define ipconfigARP_CACHE_ENTRIES                6
#define ipconfigMAX_ARP_RETRANSMISSIONS          5
#define ipconfigMAX_ARP_AGE                      150
#endif
