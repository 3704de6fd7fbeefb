/*
 * dirtier: guest workload for the nova two-host libvirt lab.
 *
 * Usage: dirtier [MIB [RATE_MIB_S [TLB_KICK_MS]]]
 *
 * Allocates MIB MiB of anonymous memory, touches every page once, then
 * dirties pages at about RATE_MIB_S MiB/s (0 = stay idle).  Once per
 * wall-clock second it prints one line to stdout:
 *
 *   DIRTIER t=<s since start> pages=<pages written> rate_mib_s=<last second> bad=<n>
 *
 * bad= counts page writes that found the page's previous write missing (a
 * lost update: the memory integrity check that matters after a migration);
 * the first few are also printed as "DIRTIER CORRUPT page=.. expected=..
 * got=..".
 * The dirtying loop is paced by CPU work, not by the clock: at start a busy
 * loop is calibrated (how many spins between two page writes give the
 * requested rate while the vCPU runs freely) and from then on one page is
 * written every N spins.  When QEMU throttles the vCPU (auto-converge) the
 * guest gets less CPU time and the dirty rate falls in proportion, as it
 * would for a real workload.  A clock-paced loop would catch up in bursts
 * and defeat auto-converge.
 *
 * TLB kicker: unless TLB_KICK_MS is 0 (default 20), a small child process
 * wakes up every TLB_KICK_MS ms, forcing an address-space switch (CR3
 * write) in the guest.  Under TCG, QEMU 7.2 does not re-arm dirty tracking
 * of its soft TLB entries after a migration bitmap sync: a page written
 * through a long-lived TLB entry (the kernel's per-CPU data, with one busy
 * process and no context switches) is not resent, and the guest lands
 * corrupted after a long pre-copy migration.  A CR3 write flushes QEMU's
 * soft TLB, which makes the tracking work; real guests switch contexts
 * all the time.  Set tlb_kick_ms=0 on the kernel command line to see the bug.
 *
 * Built statically (gcc -static -O2) by tools/lab/setup.sh and started by
 * the initramfs /init with the dirty_mib= / dirty_rate= kernel parameters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define PAGES_PER_MIB (1048576UL / PAGE)

static struct timespec t_start;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)(ts.tv_sec - t_start.tv_sec) +
           (double)(ts.tv_nsec - t_start.tv_nsec) / 1e9;
}

/* A pure register loop the compiler cannot drop. */
static inline void spin(unsigned long n)
{
    unsigned long i;

    for (i = 0; i < n; i++)
        __asm__ __volatile__("" : : "r"(i) : "memory");
}

static unsigned char *area;
static unsigned long npages;
static unsigned long cursor;
static unsigned long long written;

static unsigned long long bad;

static inline volatile uint64_t *slot(unsigned long page, unsigned long long seq)
{
    return (volatile uint64_t *)(area + page * PAGE + ((seq * 64) & (PAGE - 1)));
}

/*
 * Dirty the next page of the area (one 8-byte store is enough).  Pages are
 * written round-robin and each store records its sequence number, so the
 * previous store to this page (npages writes ago) must still be readable:
 * a mismatch means the page lost an update, e.g. a dirty page that a live
 * migration did not resend.
 */
static inline void dirty_one(void)
{
    if (written >= npages) {
        unsigned long long prev = written - npages;
        uint64_t got = *slot(cursor, prev);

        if (got != prev) {
            if (bad < 5)
                printf("DIRTIER CORRUPT page=%lu expected=%llu got=%llu\n",
                       cursor, prev, (unsigned long long)got);
            bad++;
        }
    }
    *slot(cursor, written) = written;
    written++;
    if (++cursor == npages)
        cursor = 0;
}

static unsigned long parse_ul(const char *s, unsigned long dflt)
{
    char *end;
    unsigned long v;

    if (s == NULL || *s == '\0')
        return dflt;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return dflt;
    return v;
}

static void report(double now, double *last_t, unsigned long long *last_pages)
{
    double dt = now - *last_t;
    double mib = (double)(written - *last_pages) / (double)PAGES_PER_MIB;

    printf("DIRTIER t=%lu pages=%llu rate_mib_s=%.1f bad=%llu\n",
           (unsigned long)now, written, dt > 0 ? mib / dt : 0.0, bad);
    fflush(stdout);
    *last_t = now;
    *last_pages = written;
}

/*
 * Find spins-per-page so that the real loop (write + spin) runs at
 * target_pps pages per second.  Each round runs the real loop for
 * about 0.2 s and corrects the guess by the measured ratio.
 */
static unsigned long calibrate(double target_pps, double *achieved_pps)
{
    unsigned long spins_per_page;
    unsigned long long probe = 1UL << 20;
    double t0, dt, pps = 0.0;
    int round;

    /* First guess from the raw speed of the spin loop. */
    for (;;) {
        t0 = now_s();
        spin(probe);
        dt = now_s() - t0;
        if (dt >= 0.05 || probe >= (1ULL << 40))
            break;
        probe *= 4;
    }
    spins_per_page = (unsigned long)((double)probe / dt / target_pps);

    for (round = 0; round < 12; round++) {
        unsigned long long n = 0, batch;
        double ratio;

        /* Enough pages for ~0.2 s at the target rate, at least 16. */
        batch = (unsigned long long)(target_pps * 0.2);
        if (batch < 16)
            batch = 16;
        t0 = now_s();
        while (n < batch) {
            dirty_one();
            spin(spins_per_page);
            n++;
        }
        dt = now_s() - t0;
        pps = (double)n / dt;
        ratio = pps / target_pps;
        if (round >= 2 && ratio > 0.97 && ratio < 1.03)
            break;
        if (spins_per_page == 0 && ratio < 1.0)
            break; /* cannot go faster than an unpaced loop */
        spins_per_page = (unsigned long)((double)spins_per_page * ratio);
        if (spins_per_page == 0 && ratio >= 1.0)
            spins_per_page = 1;
    }
    *achieved_pps = pps;
    return spins_per_page;
}

/*
 * Two child processes that hand a byte to each other every kick_ms ms (see
 * above).  Each hand-over switches between two address spaces, so the
 * guest kernel writes CR3 twice per tick even when the dirtier itself
 * sleeps (an idle guest): one process waking alone from idle keeps its
 * address space loaded and writes no CR3 at all.
 */
static void start_tlb_kicker(unsigned long kick_ms)
{
    pid_t parent = getpid();
    struct timespec ts;
    int ping[2], pong[2];
    char byte = 0;

    if (kick_ms == 0)
        return;
    if (pipe(ping) != 0 || pipe(pong) != 0)
        return; /* run without the kicker */
    if (fork() != 0) {
        close(ping[0]); close(ping[1]); close(pong[0]); close(pong[1]);
        return; /* parent (or fork failure: run without the kicker) */
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
    if (fork() == 0) {
        /* The partner: answers each byte, so the two take turns. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) {
            if (read(ping[0], &byte, 1) != 1 || write(pong[1], &byte, 1) != 1)
                _exit(0);
        }
    }
    ts.tv_sec = (time_t)(kick_ms / 1000);
    ts.tv_nsec = (long)(kick_ms % 1000) * 1000000L;
    for (;;) {
        nanosleep(&ts, NULL);
        if (write(ping[1], &byte, 1) != 1 || read(pong[0], &byte, 1) != 1)
            nanosleep(&ts, NULL); /* partner gone: still wake up */
    }
}

int main(int argc, char **argv)
{
    unsigned long mib = parse_ul(argc > 1 ? argv[1] : NULL, 128);
    unsigned long rate = parse_ul(argc > 2 ? argv[2] : NULL, 0);
    unsigned long kick_ms = parse_ul(argc > 3 ? argv[3] : NULL, 20);
    double last_t = 0.0, next_report = 1.0, now;
    unsigned long long last_pages = 0;
    unsigned long i;

    clock_gettime(CLOCK_MONOTONIC, &t_start);
    setvbuf(stdout, NULL, _IOLBF, 0);
    start_tlb_kicker(kick_ms);

    if (mib == 0)
        mib = 1;
    npages = mib * PAGES_PER_MIB;
    area = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) {
        printf("DIRTIER error: cannot allocate %lu MiB: %s\n", mib,
               strerror(errno));
        return 1;
    }
    for (i = 0; i < npages; i++)
        memset(area + i * PAGE, (int)(i & 0xff), PAGE);

    printf("DIRTIER start mib=%lu rate=%lu tlb_kick_ms=%lu touched_in_s=%.2f\n",
           mib, rate, kick_ms, now_s());
    fflush(stdout);

    if (rate == 0) {
        for (;;) {
            struct timespec ts;
            double wait;

            now = now_s();
            if (now >= next_report) {
                report(now, &last_t, &last_pages);
                while (next_report <= now)
                    next_report += 1.0;
            }
            wait = next_report - now_s();
            if (wait > 0) {
                ts.tv_sec = (time_t)wait;
                ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
                nanosleep(&ts, NULL);
            }
        }
    }

    {
        double target_pps = (double)rate * (double)PAGES_PER_MIB;
        double achieved;
        unsigned long spins_per_page = calibrate(target_pps, &achieved);
        /* Look at the clock about 100 times a second at the target rate. */
        unsigned long check_every = (unsigned long)(target_pps / 100.0);
        unsigned long k = 0;

        if (check_every < 1)
            check_every = 1;
        printf("DIRTIER calibrated spins_per_page=%lu calib_mib_s=%.1f "
               "target_mib_s=%lu\n",
               spins_per_page, achieved / (double)PAGES_PER_MIB, rate);
        fflush(stdout);

        for (;;) {
            dirty_one();
            spin(spins_per_page);
            if (++k < check_every)
                continue;
            k = 0;
            now = now_s();
            if (now >= next_report) {
                report(now, &last_t, &last_pages);
                while (next_report <= now)
                    next_report += 1.0;
            }
        }
    }
    return 0;
}
