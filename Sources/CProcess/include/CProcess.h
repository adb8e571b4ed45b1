// What the listening server needs of Linux that Swift's Glibc module leaves
// out: GNU extensions, prctl, which is variadic, and the macros of
// SCM_RIGHTS messages.
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <sys/signalfd.h>

/// prctl(PR_SET_PDEATHSIG): `signal` is sent to this process when its parent dies.
int thumbnail_die_with_parent(int signal);

/// ppoll(2) with a timeout in milliseconds (negative: none) and `mask` as the
/// signal mask while it waits.
int thumbnail_ppoll(struct pollfd *fds, nfds_t count, int timeout_ms, const sigset_t *mask);

/// signalfd(2) for `mask`, close-on-exec and non-blocking.
int thumbnail_signalfd(const sigset_t *mask);

/// malloc_trim(3): the free memory at the top of the heap and in its
/// middle given back to the kernel.
int thumbnail_trim_heap(void);

/// A block of `bytes` allocated and freed: glibc maps a block above its
/// threshold (128 KiB at first) and, once such a block is freed, raises the
/// threshold to its size and keeps adjusting it, which mallopt(3) would stop.
void thumbnail_raise_mmap_threshold(size_t bytes);

/// memfd_create(2): an anonymous file, close-on-exec.
int thumbnail_memfd(const char *name);

/// A connected pair of Unix stream sockets, close-on-exec: a connection
/// process's channel to the listening server.
int thumbnail_channel(int ends[2]);

/// sendmsg(2) of one byte with `fd` (SCM_RIGHTS), without waiting: 0, or -1
/// when the other end is gone or full.
int thumbnail_send_fd(int channel, int fd);

/// recvmsg(2) without waiting of what `thumbnail_send_fd` sent: the
/// descriptor, close-on-exec, or -1 when none is there or the other end closed.
int thumbnail_receive_fd(int channel);
