/* Entering an access: what every access to a tracked container or an attribute asks first
 * (shadow.py's enter_thread and _enter), inline in each caller.  Part of core.h (which
 * includes it last): the declarations these functions use are there.
 */

#ifndef RACEWATCH_ENTER_H
#define RACEWATCH_ENTER_H

#include "core.h"

static inline PyObject *
rw_solo_get(void)
{
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
    return __atomic_load_n(&rw_solo, __ATOMIC_ACQUIRE);
#else
    return rw_solo;
#endif
}

/* shadow.enter_thread: 1 when the calling thread's access is to be checked (*pts: its
 * state, borrowed: the thread-local holds it), 0 when not, -1 on error. */
static inline int
rw_enter_thread_as(RW_ThreadState *ts, RW_ThreadState **pts)
{
    if (!rw_enabled()) {
        return 0;
    }
    if (ts == NULL && (ts = rw_current_slow()) == NULL) {
        return -1;
    }
    if (ts->busy || ts->ignoring) {
        return 0;
    }
    long long accesses = ts->accesses + 1;   /* only this thread writes it */
    RW_STORE(&ts->accesses, accesses);
    if (!(accesses & RW_BUDGET_MASK) && rw_has_budget() && rw_budget_check(ts) < 0) {
        return -1;
    }
    if ((PyObject *)ts == rw_solo_get()) {
        /* The only live thread, ordered after every finished one: this access can race
         * with nothing now, and every thread started later inherits this thread's clock. */
        return 0;
    }
    if (ts->pending && rw_settle_pending(ts) < 0) {
        return -1;
    }
    *pts = ts;
    return 1;
}

/* rw_enter_thread_as, for a caller that read the thread-local (``ts``, NULL when it is not
 * set yet) already. */
static inline int
rw_enter_thread(RW_ThreadState **pts)
{
    return rw_enabled() ? rw_enter_thread_as(rw_tls_state, pts) : 0;
}

/* Whether ``sh``, what a tracked container's slot holds, is a shadow made already and of
 * this run of tracking (else rw_enter_shadow_slow makes or renews it). */
static inline int
rw_shadow_current(PyObject *sh)
{
    return sh != NULL && Py_IS_TYPE(sh, &RW_ShadowType)
           && ((RW_Shadow *)sh)->generation == rw_settings->generation;
}

/* The shadow of tracked container ``d`` for an access by ``ts`` that is to be checked, as
 * rw_enter gives it.  Inline for a shadow made already and of this process: every access
 * to a container asks, and a call was a tenth of what racewatch adds to one that it finds
 * made already in the thread's epoch. */
static inline int
rw_enter_shadow(PyObject *d, RW_ThreadState *ts, RW_ThreadState **pts, RW_Shadow **psh)
{
    PyObject **slot = rw_shadow_slot(d);
    if (slot == NULL) {
        return 0;   /* built without ``track`` as something else than a tracked dict */
    }
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
    PyObject *sh = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
#else
    PyObject *sh = *slot;
#endif
    if (!rw_shadow_current(sh)) {
        return rw_enter_shadow_slow(d, slot, ts, pts, psh);
    }
    *pts = (RW_ThreadState *)Py_NewRef(ts);
    *psh = (RW_Shadow *)sh;
    return 1;
}

#ifndef Py_GIL_DISABLED
/* GIL builds: the shadow of tracked container ``d`` (borrowed) for a first look at whether
 * ``ts`` (the calling thread's, or NULL) made its access already in its epoch, when
 * rw_enter would check the access and it is not the memory budget's turn; else NULL.
 * Nothing is counted: the caller counts an access it finds made already, and gives any
 * other to rw_enter (rules.c, rw_first_look_read; list.c). */
static inline RW_Shadow *
rw_first_look(PyObject *d, const RW_ThreadState *ts)
{
    if (!rw_enabled() || ts == NULL || ts->busy || ts->ignoring || ts->pending
            || !((ts->accesses + 1) & RW_BUDGET_MASK)) {
        return NULL;
    }
    PyObject **slot = rw_shadow_slot(d);
    PyObject *sh = slot != NULL ? *slot : NULL;
    return rw_shadow_current(sh) ? (RW_Shadow *)sh : NULL;
}
#endif

/* shadow._enter: 1 when the access is to be checked (*pts holds a new reference to the
 * thread's state, *psh a borrowed shadow), 0 when not, -1 on error. */
static inline int
rw_enter(PyObject *d, RW_ThreadState **pts, RW_Shadow **psh)
{
    RW_ThreadState *ts;
    int e = rw_enter_thread(&ts);
    return e <= 0 ? e : rw_enter_shadow(d, ts, pts, psh);
}

#endif /* RACEWATCH_ENTER_H */
