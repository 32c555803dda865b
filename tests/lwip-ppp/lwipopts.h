/* lwIP configuration of lwip-ppp: a standalone PPP peer (PPPoS on stdin/stdout), no OS (NO_SYS). */
#ifndef LWIP_PPP_LWIPOPTS_H
#define LWIP_PPP_LWIPOPTS_H

#include <stdlib.h>

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_TCP 0
/* UDP only because lwIP asks the peer for DNS addresses (IPCP options 129/131) under LWIP_DNS. */
#define LWIP_UDP 1
#define LWIP_DNS 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_ARP 0
#define LWIP_ETHERNET 0
#define LWIP_STATS 0

#define MEM_ALIGNMENT 8
#define MEM_SIZE 32000
#define PBUF_POOL_SIZE 32
#define MEMP_NUM_SYS_TIMEOUT 16

#define PPP_SUPPORT 1
#define PPPOS_SUPPORT 1
#define PPPOE_SUPPORT 0
#define PPPOL2TP_SUPPORT 0
#define PPP_SERVER 1
#define PPP_NOTIFY_PHASE 1
#define PAP_SUPPORT 1
#define CHAP_SUPPORT 1
#define MSCHAP_SUPPORT 0
#define EAP_SUPPORT 0
#define CCP_SUPPORT 0
#define VJ_SUPPORT 0
#define LQR_SUPPORT 0
#define LWIP_INCLUDED_POLARSSL_MD5 1
/* Over PPPoE the MRU is at most 1492 (RFC 2516 section 7): ask for that from the start. */
#define PPP_MRU 1492
#define PRINTPKT_SUPPORT 1

/* LCP magic numbers and CHAP challenges: seeded in main() from time and pid. */
#define LWIP_RAND() ((u32_t)random())

/* pppd-style logs of every packet go to stderr (arch/cc.h), never into the PPP stream. */
#define LWIP_DEBUG 1
#define PPP_DEBUG LWIP_DBG_ON
#define LWIP_DBG_MIN_LEVEL LWIP_DBG_LEVEL_ALL
#define LWIP_DBG_TYPES_ON LWIP_DBG_ON

#endif
