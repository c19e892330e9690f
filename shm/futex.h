/* A futex on a 32-bit word in shared memory, and the seq_cst atomics the doorbell needs.
 *
 * FUTEX_WAIT without FUTEX_PRIVATE_FLAG works across processes that map the same file
 * (/dev/shm segments are MAP_SHARED), so one process can sleep until another rings.
 */
#ifndef MM_FUTEX_H
#define MM_FUTEX_H
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline uint32_t mm_load_seq_cst32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline uint32_t mm_fetch_add_seq_cst32(uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t mm_fetch_sub_seq_cst32(uint32_t *p, uint32_t v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }

/* Sleep while *addr == expected, at most timeout_ns. 0: woken (or the word had changed), 1: timed out. */
static inline int mm_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    long rc = syscall(SYS_futex, addr, FUTEX_WAIT, expected, &ts, NULL, 0);
    return (rc == -1 && errno == ETIMEDOUT) ? 1 : 0;
}

/* Wake every process sleeping on addr; returns how many woke. */
static inline int mm_futex_wake_all(uint32_t *addr) {
    return (int)syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
#endif
