/* Memory-ordered loads and stores on 64-bit words in shared memory.
 *
 * The memory order is part of every name (agrona's putLongRelease / getLongVolatile): a reader
 * that sees a sequence published with store_release also sees every byte written before it.
 * Only Cython code calls these; Python never touches a sequence word.
 */
#ifndef MM_ATOMICS_H
#define MM_ATOMICS_H
#include <stdint.h>

static inline uint64_t mm_load_acquire(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline uint64_t mm_load_relaxed(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void mm_store_release(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void mm_store_relaxed(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline uint64_t mm_fetch_add_relaxed(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static inline void mm_fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
static inline void mm_fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }

/* A pause hint for spin loops: lets the sibling hyper-thread run and saves power. */
static inline void mm_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
#endif
