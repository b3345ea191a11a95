#ifndef CLIBSSH2_SHIM_H
#define CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <poll.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

/*
 * Per-session context handed to libssh2 as the session's `abstract` pointer.
 * It is only ever touched on the thread that owns the session.
 *   last_rx_ns: CLOCK_MONOTONIC time of the last byte received from the server
 *               (liveness: keepalive replies move it forward).
 *   kbd_password / kbd_password_len: the answer to keyboard-interactive prompts,
 *               set only for the duration of that authentication attempt.
 */
typedef struct {
    int64_t last_rx_ns;
    const char *kbd_password;
    unsigned int kbd_password_len;
} quorum_ssh_ctx;

static inline int64_t quorum_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + (int64_t)ts.tv_nsec;
}

/* Same contract as libssh2's own recv (negative errno on failure), plus the liveness stamp. */
static inline ssize_t quorum_ssh_recv(libssh2_socket_t fd, void *buffer, size_t length, int flags, void **abstract) {
    ssize_t rc = recv(fd, buffer, length, flags);
    if (rc < 0) {
        if (errno == ENOENT || errno == EWOULDBLOCK) return -EAGAIN;
        return -errno;
    }
    if (rc > 0 && abstract != NULL && *abstract != NULL) {
        ((quorum_ssh_ctx *)*abstract)->last_rx_ns = quorum_monotonic_ns();
    }
    return rc;
}

static inline LIBSSH2_SESSION *quorum_session_new(quorum_ssh_ctx *ctx) {
    LIBSSH2_SESSION *session = libssh2_session_init_ex(NULL, NULL, NULL, ctx);
    if (session != NULL) {
        libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, (void *)quorum_ssh_recv);
    }
    return session;
}

/* Keyboard-interactive: answer every prompt with the password held in the context. */
static inline void quorum_kbdint_response(const char *name, int name_len, const char *instruction,
                                          int instruction_len, int num_prompts,
                                          const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
                                          LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract) {
    (void)name; (void)name_len; (void)instruction; (void)instruction_len; (void)prompts;
    quorum_ssh_ctx *ctx = (abstract != NULL) ? (quorum_ssh_ctx *)*abstract : NULL;
    for (int i = 0; i < num_prompts; i++) {
        responses[i].text = NULL;
        responses[i].length = 0;
        if (ctx == NULL || ctx->kbd_password == NULL) continue;
        char *copy = malloc(ctx->kbd_password_len + 1);
        if (copy == NULL) continue;
        memcpy(copy, ctx->kbd_password, ctx->kbd_password_len);
        copy[ctx->kbd_password_len] = 0;
        responses[i].text = copy;
        responses[i].length = ctx->kbd_password_len;
    }
}

static inline int quorum_userauth_kbdint(LIBSSH2_SESSION *session, const char *user, unsigned int user_len) {
    return libssh2_userauth_keyboard_interactive_ex(session, user, user_len, quorum_kbdint_response);
}

/* Bytes queued in the kernel send buffer, or -1. */
static inline int quorum_socket_outq(int fd) {
    int n = 0;
    if (ioctl(fd, TIOCOUTQ, &n) != 0) return -1;
    return n;
}

static inline int quorum_errno(void) { return errno; }

#endif
