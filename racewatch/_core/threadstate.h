/* racewatch._core: the state of a thread (threads.py; threadstate.c) and the thread-local
 * of the current one (included by core.h, which defines what they need first). */

#ifndef RACEWATCH_THREADSTATE_H
#define RACEWATCH_THREADSTATE_H

/* -- threads.py ------------------------------------------------------------------------- */

struct RW_Access;
struct RW_Loc;
struct rw_stack_cache;
struct rw_walk_memo_table;

/* What a walk of the frames (stacks.c) read of one frame it passed, an incomplete one too:
 * a walk over frames with the same instruction pointers, code, owners and (complete ones)
 * globals, in the same order, gives the same stack.  The instruction pointer with the code
 * gives the offset, and with the owner whether the frame is incomplete: no field of the
 * code object is read to compare them (its first traceable instruction, the start of its
 * bytecode). */
typedef struct {
    const void *instr;
    const void *code;
    const void *globals;   /* NULL for an incomplete frame (an entry frame's is not set) */
    char owner;
} rw_walked;

/* A frame that was the program's innermost one, at one generation of the walks, and the
 * key it gave (stacks.c, rw_innermost_frame). */
typedef struct {
    rw_walked frame;
    unsigned long generation;
    rw_frame_key key;
    char set;
} rw_innermost_memo;

#define RW_LOC_CACHE 4
/* Access records kept for reuse: one per access site of a loop's body, so that a thread's
 * first accesses to many keys in one epoch share a record per site (and, through the
 * location cache, their locations).  The ring is replaced oldest first, so a body with
 * more sites than it holds reuses none: a method that updates an object's attributes
 * has a dozen (threads.py, RECENT). */
#define RW_RECENT 16
#define RW_ATTR_SEEN 64

/* A read of the lock a thread released last, made while its epoch is pending (object.c,
 * rw_read_pending_lock; objects.py says it in Python): the read ``obj.name`` that gave
 * the lock, its stack, the locks held and when.  ``target`` NULL: none. */
typedef struct {
    PyObject *target;
    PyObject *name;
    PyObject *value;
    PyObject *stack;
    PyObject *held;
    long long time;
} rw_deferred_read;

/* An attribute this thread accessed in its current epoch (objects.py, ``attr_seen``). */
typedef struct {
    PyObject *target;        /* compared by address: ``ref`` says whether it is still alive */
    PyObject *name;          /* a strong reference */
    PyObject *ref;           /* the target's ObjRef (object_shadow.c), a strong reference */
    long long clock;
    long long forgotten;     /* rw_objects_forgotten (racewatch.stop()) when made */
    char write;
} rw_attr_seen;

typedef struct {
    PyObject_HEAD
    PyObject *info;          /* ThreadInfo */
    Py_ssize_t slot;
    long long clock;         /* == vc[slot] */
    PyObject *vc;            /* list[int], changed only by its own thread */
    PyObject *held;          /* tuple of LockInfo */
    struct RW_EventRing *events;   /* info.events, looked up once (sync.c) */
    PyObject *events_info;   /* the info it was looked up on */
    PyObject *spawn_clock;
    struct RW_Access *recent[RW_RECENT];  /* the access records made lately (or NULL) */
    int recent_next;         /* where the next one goes */
    /* The last read this thread recorded of a location whose key is a str or an int: the
     * read a write of that location in the same epoch follows, for the race's pattern,
     * when another thread's write took it out of the location meanwhile (rules.c). */
    long long last_read_serial;   /* its shadow's serial */
    PyObject *last_read_key;
    struct RW_Access *last_read;
    /* The epoch ``clock`` was published by a lock's release (sync.c, rw_settle_pending):
     * it ends before this thread's next access or publication, unless the thread first
     * takes that lock again while nobody else took it.  ``pending_sv`` is the lock's
     * SyncVar, compared by address only (never read: it may be gone). */
    char pending;
    const void *pending_sv;
    /* A read of that lock while pending, to record again in the next epoch if this one
     * ends (and dropped if the thread takes the lock back); ``replaying`` while it is. */
    rw_deferred_read deferred;
    const rw_deferred_read *replay;
    PyObject *sentinel_ref;
    PyObject *weakreflist;
    long long accesses;      /* written by its thread only, read by others: RW_LOAD */
    int busy;
    int ignoring;
    int internal;
    char dead;
    /* The interned stacks this thread captured lately, by key (stack_intern.c), or NULL;
     * and how many it looked up before it kept them. */
    struct rw_stack_cache *stack_cache;
    int stack_lookups;
    /* The walks of its frames this thread made lately (stacks.c), or NULL; and how many
     * it made before it kept them. */
    struct rw_walk_memo_table *walk_memo;
    int walks;
    /* The locations this thread made last, to share with the next identical one. */
    struct RW_Loc *loc_cache[RW_LOC_CACHE];
    int loc_cache_next;
    rw_attr_seen attr_seen[RW_ATTR_SEEN];
    /* rw_instrumented_now's answer for the globals it was last asked about (compared by
     * address), good while the modules' table is at the same generation. */
    PyObject *instr_globals;
    long long instr_generation;
    int instr_answer;
    /* (Last: the fields above, read on every access, keep their places.)
     * Where this thread's last two synchronization events were (a lock's acquire and its
     * release are two places), when the frame alone said it (rw_innermost_frame); and
     * which of the two goes next. */
    rw_innermost_memo innermost[2];
    int innermost_next;
} RW_ThreadState;

extern PyTypeObject RW_ThreadStateType;
extern RW_THREAD_LOCAL RW_ThreadState *rw_tls_state;
extern PyObject *rw_registry;           /* shadow.REGISTRY */
extern PyObject *rw_registry_current;   /* REGISTRY.current */
extern PyObject *rw_solo;               /* REGISTRY.solo (a ThreadState) or NULL */

RW_ThreadState *rw_current_slow(void);
int rw_threadstate_ready(PyObject *module);

/* The calling thread's state (borrowed: the thread-local holds it), made at its first use;
 * NULL with an error set when it cannot be. */
static inline RW_ThreadState *
rw_current(void)
{
    RW_ThreadState *ts = rw_tls_state;
    return ts != NULL ? ts : rw_current_slow();
}

/* late_free.c: the tables a free-threaded 3.13 frees late */
int rw_late_free_ready(void);
void rw_late_free_thread(void);
void rw_late_free_swept(Py_ssize_t keys);

#endif /* RACEWATCH_THREADSTATE_H */
