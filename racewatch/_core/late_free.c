/* The tables a free-threaded 3.13 frees late.
 *
 * On a free-threaded build, a dict that more than one thread reads frees the table it
 * outgrows only once no thread can still be reading it (quiescent-state-based
 * reclamation): the table goes on a queue of the thread that resized the dict.  CPython
 * 3.13 looks at that queue only when it holds 254 entries, whatever their size, so a dict
 * whose keys come and go (each resize leaves a table of a hundred kilobytes or more) keeps
 * up to 254 of its old tables at a time: a plain program whose thread inserts and deletes
 * 3 million keys, 1,500 at a time, in a dict another thread made peaks at 61 MB, where its
 * own dict stays at 14 MB (CPython's gh-133136; its fix, gh-136480, also counts the queue's
 * memory, in 3.14 and in 3.13 releases after 3.13.5).  racewatch's locations of a
 * container's keys are such a dict wherever the program's container is shared, and the
 * sweep (sweep.c) makes them churn as keys come and go: missing_keys, two threads asking
 * a small dict for a million new keys each, peaked at 4.3 times plain Python's memory.
 *
 * So after the sweeps have let go of about 256 KiB of tables, the sweeping thread
 * queues 256 frees of its own, of a list's few-word arrays: the queue fills, and CPython
 * frees what no thread can still read, racewatch's tables and the program's alike.  A
 * list made by the thread that loaded racewatch and resized by another is one whose
 * arrays go on the queue; every thread resizes it once when racewatch first sees it
 * (rw_late_free_thread), so that it is such a list for the first thread too.  GIL builds
 * and 3.14 need none of it; a 3.13 release with the fix only gets a few more small frees.
 */

#include "engine.h"

#if defined(Py_GIL_DISABLED) && PY_VERSION_HEX < 0x030E0000

#define LATE_QUEUE 256                 /* CPython's queue: 254 entries a chunk */
#define LATE_BYTES (256 * 1024)    /* missing_keys: 23.5 MB, 28 MB at 1 MiB */
#define TABLE_BYTES_PER_KEY 48         /* an entry, its index and the table's slack */

static PyObject *pad;                  /* a list, resized to queue frees */
static Py_ssize_t late_bytes;          /* the tables let go since the last release */

/* One round of resizes of ``pad``: two of its arrays freed, late. */
static int
resize_pad(void)
{
    for (int i = 0; i < 5; i++) {
        if (PyList_Append(pad, Py_None) < 0) {
            return -1;
        }
    }
    return PyList_SetSlice(pad, 0, PY_SSIZE_T_MAX, NULL);
}

void
rw_late_free_thread(void)
{
    if (pad != NULL && resize_pad() < 0) {
        PyErr_Clear();   /* (no memory: the tables are freed later, as they were) */
    }
}

/* The end of a sweep that left ``keys`` locations: under the shadow's lock, which a wait
 * for the list's own lock lets go of meanwhile (a nested critical section), when the
 * sweep has done all it does under it. */
void
rw_late_free_swept(Py_ssize_t keys)
{
    Py_ssize_t bytes = __atomic_add_fetch(&late_bytes, keys * TABLE_BYTES_PER_KEY,
                                          __ATOMIC_RELAXED);
    if (pad == NULL || bytes < LATE_BYTES) {
        return;
    }
    __atomic_store_n(&late_bytes, 0, __ATOMIC_RELAXED);
    for (int i = 0; i < LATE_QUEUE / 2; i++) {
        if (resize_pad() < 0) {
            PyErr_Clear();
            return;
        }
    }
}

int
rw_late_free_ready(void)
{
    if (pad == NULL) {
        pad = PyList_New(0);
    }
    return pad != NULL ? 0 : -1;
}

#else

void
rw_late_free_thread(void)
{
}

void
rw_late_free_swept(Py_ssize_t Py_UNUSED(keys))
{
}

int
rw_late_free_ready(void)
{
    return 0;
}

#endif
