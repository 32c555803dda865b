/*
 * lwip-ppp: lwIP's PPP (LCP, PAP, CHAP-MD5, IPCP) as a standalone program, the PPP engine that
 * stands where Windows RAS stands in rswan's end-to-end tests.
 *
 * stdin/stdout carry PPP in RFC 1662 async HDLC framing (PPPoS). stderr carries lwIP's
 * pppd-style logs and machine-readable lines that tests wait for:
 *   START role=<client|server>
 *   PHASE <name>
 *   IPCP up local=<ip> peer=<ip> dns=<ip>
 *   PING reply from=<ip> seq=<n>
 *   PING done
 *   AUTH FAIL
 *   PPP DOWN reason=<name>
 *   EOF
 * It serves one link: it exits when the link is down (0 if the link had come up and ended
 * normally, 1 otherwise) or when stdin closes.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/icmp.h"
#include "lwip/raw.h"
#include "lwip/timeouts.h"
#include "netif/ppp/ppp.h"
#include "netif/ppp/pppos.h"

#define PING_INTERVAL_MS 200
#define PING_ATTEMPTS_PER_REPLY 10
#define PING_ID 0x7273 /* "rs" */

struct options {
    int server;
    const char *user;
    const char *password;
    u8_t auth_type;
    ip4_addr_t local;
    ip4_addr_t peer;
    ip4_addr_t dns;
    int no_acfc;
    int no_accm;
    int ping_count;
    int hangup;
};

static struct options opts;
static ppp_pcb *ppp;
static struct netif ppp_netif;
static struct raw_pcb *ping_pcb;
static int link_was_up;
static int finished;
static int exit_code = 1;
static int ping_replies;
static int ping_sent;

void lwip_ppp_diag(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
}

/* lwIP's clock (NO_SYS): milliseconds from a monotonic source. */
u32_t sys_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (u32_t)(now.tv_sec * 1000 + now.tv_nsec / 1000000);
}

/* Extra entropy for PPP's random pool (magic.c). */
u32_t sys_jiffies(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (u32_t)now.tv_nsec;
}

static void report(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    fflush(stderr);
}

static const char *phase_name(u8_t phase) {
    switch (phase) {
    case PPP_PHASE_DEAD: return "dead";
    case PPP_PHASE_MASTER: return "master";
    case PPP_PHASE_HOLDOFF: return "holdoff";
    case PPP_PHASE_INITIALIZE: return "initialize";
    case PPP_PHASE_SERIALCONN: return "serialconn";
    case PPP_PHASE_DORMANT: return "dormant";
    case PPP_PHASE_ESTABLISH: return "establish";
    case PPP_PHASE_AUTHENTICATE: return "authenticate";
    case PPP_PHASE_CALLBACK: return "callback";
    case PPP_PHASE_NETWORK: return "network";
    case PPP_PHASE_RUNNING: return "running";
    case PPP_PHASE_TERMINATE: return "terminate";
    case PPP_PHASE_DISCONNECT: return "disconnect";
    default: return "unknown";
    }
}

static const char *error_name(int err) {
    switch (err) {
    case PPPERR_NONE: return "none";
    case PPPERR_PARAM: return "param";
    case PPPERR_OPEN: return "open";
    case PPPERR_DEVICE: return "device";
    case PPPERR_ALLOC: return "alloc";
    case PPPERR_USER: return "user";
    case PPPERR_CONNECT: return "connect";
    case PPPERR_AUTHFAIL: return "authfail";
    case PPPERR_PROTOCOL: return "protocol";
    case PPPERR_PEERDEAD: return "peerdead";
    case PPPERR_IDLETIMEOUT: return "idletimeout";
    case PPPERR_CONNECTTIME: return "connecttime";
    case PPPERR_LOOPBACK: return "loopback";
    default: return "unknown";
    }
}

static void phase_cb(ppp_pcb *pcb, u8_t phase, void *ctx) {
    LWIP_UNUSED_ARG(pcb);
    LWIP_UNUSED_ARG(ctx);
    report("PHASE %s", phase_name(phase));
}

/* PPPoS output: the framed bytes go to stdout as they are. */
static u32_t output_cb(ppp_pcb *pcb, const void *data, u32_t len, void *ctx) {
    const u8_t *bytes = data;
    u32_t done = 0;
    LWIP_UNUSED_ARG(pcb);
    LWIP_UNUSED_ARG(ctx);
    while (done < len) {
        ssize_t n = write(STDOUT_FILENO, bytes + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            report("EOF stdout");
            exit(1);
        }
        done += (u32_t)n;
    }
    return len;
}

static void hang_up(void) {
    report("HANGUP");
    ppp_close(ppp, 0);
}

static void send_ping(void *arg) {
    struct pbuf *p;
    struct icmp_echo_hdr *echo;
    LWIP_UNUSED_ARG(arg);
    if (ping_replies >= opts.ping_count || finished) {
        return;
    }
    if (ping_sent >= opts.ping_count * PING_ATTEMPTS_PER_REPLY) {
        report("PING gave up after %d requests", ping_sent);
        hang_up();
        return;
    }
    p = pbuf_alloc(PBUF_IP, (u16_t)sizeof(*echo), PBUF_RAM);
    if (p != NULL) {
        echo = p->payload;
        ICMPH_TYPE_SET(echo, ICMP_ECHO);
        ICMPH_CODE_SET(echo, 0);
        echo->id = lwip_htons(PING_ID);
        echo->seqno = lwip_htons((u16_t)ping_sent);
        echo->chksum = 0;
        echo->chksum = inet_chksum(echo, (u16_t)sizeof(*echo));
        raw_sendto(ping_pcb, p, netif_ip_gw4(&ppp_netif));
        pbuf_free(p);
        ping_sent++;
    }
    sys_timeout(PING_INTERVAL_MS, send_ping, NULL);
}

/* Echo replies to our id end here; anything else goes on to lwIP's own ICMP (which answers
 * echo requests to our address). */
static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr) {
    u8_t header[20 + sizeof(struct icmp_echo_hdr)];
    u16_t ip_header_len;
    const struct icmp_echo_hdr *echo;
    LWIP_UNUSED_ARG(arg);
    LWIP_UNUSED_ARG(pcb);
    if (pbuf_copy_partial(p, header, 1, 0) != 1) {
        return 0;
    }
    ip_header_len = (u16_t)((header[0] & 0x0f) * 4);
    if (ip_header_len != 20 || p->tot_len < sizeof(header) ||
        pbuf_copy_partial(p, header, sizeof(header), 0) != sizeof(header)) {
        return 0;
    }
    echo = (const struct icmp_echo_hdr *)(header + ip_header_len);
    if (ICMPH_TYPE(echo) != ICMP_ER || lwip_ntohs(echo->id) != PING_ID) {
        return 0;
    }
    report("PING reply from=%s seq=%u", ipaddr_ntoa(addr), lwip_ntohs(echo->seqno));
    pbuf_free(p);
    ping_replies++;
    if (ping_replies == opts.ping_count) {
        report("PING done");
        if (opts.hangup) {
            hang_up();
        }
    }
    return 1;
}

static void status_cb(ppp_pcb *pcb, int err, void *ctx) {
    LWIP_UNUSED_ARG(ctx);
    if (err == PPPERR_NONE) {
        char local[IP4ADDR_STRLEN_MAX];
        char peer[IP4ADDR_STRLEN_MAX];
        char dns[IP4ADDR_STRLEN_MAX];
        ip4_addr_t dns_addr;
        ip4_addr_set_u32(&dns_addr, pcb->ipcp_gotoptions.dnsaddr[0]);
        ip4addr_ntoa_r(netif_ip4_addr(&ppp_netif), local, sizeof(local));
        ip4addr_ntoa_r(netif_ip4_gw(&ppp_netif), peer, sizeof(peer));
        ip4addr_ntoa_r(&dns_addr, dns, sizeof(dns));
        report("IPCP up local=%s peer=%s dns=%s", local, peer, dns);
        link_was_up = 1;
        if (opts.ping_count > 0) {
            send_ping(NULL);
        } else if (opts.hangup) {
            hang_up();
        }
        return;
    }
    if (err == PPPERR_AUTHFAIL) {
        report("AUTH FAIL");
    }
    report("PPP DOWN reason=%s", error_name(err));
    exit_code = link_was_up && (err == PPPERR_USER || err == PPPERR_CONNECT) &&
                ping_replies >= opts.ping_count ? 0 : 1;
    finished = 1;
}

static void usage(void) {
    fprintf(stderr,
            "usage: lwip-ppp --role client|server --user NAME --password SECRET\n"
            "                [--auth pap|chap|any] [--local IP --peer IP [--dns IP]] (server)\n"
            "                [--no-acfc] [--no-accm] [--ping COUNT] [--hangup]\n"
            "  --no-acfc    never negotiate Address-and-Control-Field-Compression\n"
            "  --no-accm    never negotiate an ACCM: escape every control character\n"
            "  --ping N     once IPCP is up, wait for N ICMP echo replies from the peer address\n"
            "  --hangup     once IPCP is up (and the pings are done), close the link with LCP\n");
    exit(2);
}

static void parse_address(const char *text, ip4_addr_t *address) {
    if (!ip4addr_aton(text, address)) {
        fprintf(stderr, "not an IPv4 address: %s\n", text);
        usage();
    }
}

static void parse_options(int argc, char **argv) {
    static const struct option long_options[] = {
        {"role", required_argument, NULL, 'r'},
        {"user", required_argument, NULL, 'u'},
        {"password", required_argument, NULL, 'p'},
        {"auth", required_argument, NULL, 'a'},
        {"local", required_argument, NULL, 'l'},
        {"peer", required_argument, NULL, 'e'},
        {"dns", required_argument, NULL, 'd'},
        {"no-acfc", no_argument, NULL, 'n'},
        {"no-accm", no_argument, NULL, 'm'},
        {"ping", required_argument, NULL, 'i'},
        {"hangup", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *role = NULL;
    int have_local = 0;
    int have_peer = 0;
    int c;
    opts.auth_type = PPPAUTHTYPE_ANY;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (c) {
        case 'r': role = optarg; break;
        case 'u': opts.user = optarg; break;
        case 'p': opts.password = optarg; break;
        case 'a':
            if (strcmp(optarg, "pap") == 0) {
                opts.auth_type = PPPAUTHTYPE_PAP;
            } else if (strcmp(optarg, "chap") == 0) {
                opts.auth_type = PPPAUTHTYPE_CHAP;
            } else if (strcmp(optarg, "any") == 0) {
                opts.auth_type = PPPAUTHTYPE_PAP | PPPAUTHTYPE_CHAP;
            } else {
                usage();
            }
            break;
        case 'l': parse_address(optarg, &opts.local); have_local = 1; break;
        case 'e': parse_address(optarg, &opts.peer); have_peer = 1; break;
        case 'd': parse_address(optarg, &opts.dns); break;
        case 'n': opts.no_acfc = 1; break;
        case 'm': opts.no_accm = 1; break;
        case 'i': opts.ping_count = atoi(optarg); break;
        case 'h': opts.hangup = 1; break;
        default: usage();
        }
    }
    if (optind != argc || role == NULL || opts.user == NULL || opts.password == NULL) {
        usage();
    }
    if (strcmp(role, "server") == 0) {
        opts.server = 1;
        if (!have_local || !have_peer) {
            fprintf(stderr, "the server role needs --local and --peer\n");
            usage();
        }
    } else if (strcmp(role, "client") != 0) {
        usage();
    }
    if (opts.ping_count < 0) {
        usage();
    }
}

int main(int argc, char **argv) {
    u8_t input[2048];
    parse_options(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    srandom((unsigned)time(NULL) ^ ((unsigned)getpid() << 16));

    lwip_init();
    ppp = pppos_create(&ppp_netif, output_cb, status_cb, NULL);
    if (ppp == NULL) {
        report("PPP DOWN reason=alloc");
        return 1;
    }
    ppp_set_notify_phase_callback(ppp, phase_cb);
    ppp_set_auth(ppp, opts.auth_type, opts.user, opts.password);
    if (opts.no_acfc) {
        ppp_set_neg_accomp(ppp, 0);
    }
    if (opts.no_accm) {
        ppp_set_neg_asyncmap(ppp, 0);
    }
    ping_pcb = raw_new(IP_PROTO_ICMP);
    raw_recv(ping_pcb, ping_recv, NULL);

    report("START role=%s", opts.server ? "server" : "client");
    if (opts.server) {
        ppp_set_ipcp_ouraddr(ppp, &opts.local);
        ppp_set_ipcp_hisaddr(ppp, &opts.peer);
        if (!ip4_addr_isany_val(opts.dns)) {
            ppp_set_ipcp_dnsaddr(ppp, 0, &opts.dns);
        }
        ppp_set_auth_required(ppp, 1);
        ppp_listen(ppp);
    } else {
        ppp_set_usepeerdns(ppp, 1);
        ppp_connect(ppp, 0);
    }

    while (!finished) {
        struct pollfd stdin_poll = {.fd = STDIN_FILENO, .events = POLLIN};
        u32_t sleep_ms = sys_timeouts_sleeptime();
        int ready = poll(&stdin_poll, 1, sleep_ms > 100 ? 100 : (int)sleep_ms);
        if (ready < 0 && errno != EINTR) {
            report("EOF poll");
            return 1;
        }
        if (ready > 0) {
            ssize_t n = read(STDIN_FILENO, input, sizeof(input));
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                report("EOF");
                return link_was_up ? 0 : 1;
            }
            if (n > 0) {
                pppos_input(ppp, input, (int)n);
            }
        }
        sys_check_timeouts();
    }
    return exit_code;
}
