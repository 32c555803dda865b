/* Platform glue of lwip-ppp for lwIP (Linux user space). */
#ifndef LWIP_PPP_ARCH_CC_H
#define LWIP_PPP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

/* lwIP's diagnostics go to stderr: stdout carries the PPP byte stream. */
void lwip_ppp_diag(const char *format, ...) __attribute__((format(printf, 1, 2)));
#define LWIP_PLATFORM_DIAG(message) do { lwip_ppp_diag message; } while (0)
#define LWIP_PLATFORM_ASSERT(message) do { \
        fprintf(stderr, "ASSERT %s at %s:%d\n", message, __FILE__, __LINE__); \
        abort(); \
    } while (0)

#endif
