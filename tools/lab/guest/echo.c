/*
 * The lab guest's echo service: every UDP datagram and every byte of a TCP
 * connection to port 7 (or argv[1]) is sent back as it came.  One process,
 * one poll() loop, no fork: the blackout probe (nova/bench/blackout_probe.py)
 * sends a UDP datagram every 10 ms and times the answers; TCP is there for
 * a client that wants a connection to survive the move.
 *
 * Built static (gcc -static) by tools/lab/setup.sh and started by the
 * guest's /init when the kernel command line gives it an address (net_ip=).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 16

static int listen_on(int type, int port)
{
    struct sockaddr_in addr;
    int one = 1;
    int fd = socket(AF_INET, type, 0);

    if (fd < 0) {
        perror("echo: socket");
        exit(1);
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        perror("echo: bind");
        exit(1);
    }
    if (type == SOCK_STREAM && listen(fd, 8) < 0) {
        perror("echo: listen");
        exit(1);
    }
    return fd;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 7;
    struct pollfd fds[2 + MAX_CLIENTS];
    int nclients = 0, i, one = 1;
    char buf[2048];

    fds[0].fd = listen_on(SOCK_DGRAM, port);
    fds[1].fd = listen_on(SOCK_STREAM, port);
    fds[0].events = fds[1].events = POLLIN;
    printf("ECHO listening on udp/tcp port %d\n", port);
    fflush(stdout);
    for (;;) {
        if (poll(fds, 2 + nclients, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("echo: poll");
            return 1;
        }
        if (fds[0].revents & POLLIN) {
            struct sockaddr_in peer;
            socklen_t len = sizeof(peer);
            ssize_t n = recvfrom(fds[0].fd, buf, sizeof(buf), 0,
                                 (struct sockaddr *)&peer, &len);
            if (n >= 0)
                sendto(fds[0].fd, buf, n, 0, (struct sockaddr *)&peer, len);
        }
        if (fds[1].revents & POLLIN) {
            int c = accept(fds[1].fd, NULL, NULL);
            if (c >= 0 && nclients < MAX_CLIENTS) {
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                fds[2 + nclients].fd = c;
                fds[2 + nclients].events = POLLIN;
                fds[2 + nclients].revents = 0;
                nclients++;
            } else if (c >= 0) {
                close(c);
            }
        }
        for (i = 0; i < nclients; i++) {
            struct pollfd *p = &fds[2 + i];
            ssize_t n;

            if (!(p->revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            n = read(p->fd, buf, sizeof(buf));
            if (n > 0 && write(p->fd, buf, n) == n)
                continue;
            /* closed or broken: drop it, the last client takes its slot */
            close(p->fd);
            *p = fds[2 + nclients - 1];
            nclients--;
            i--;
        }
    }
}
