/* EventRing: a thread's recent sync events, for the timeline of a later race
 * (threads.py: ThreadInfo.events, a deque of (monotonic ns, kind, label, direction, stack)
 * in the pure-Python core).
 *
 * Every acquire and release of a tracked lock notes an event, so noting one must cost
 * next to nothing: an event is kept as C fields in a fixed-size ring, with the code object
 * and instruction offset of the innermost frame of the program instead of a stack; the
 * tuples the timeline reads (races.py, _events_between) are built only when a report is,
 * by iterating the ring, oldest first, as a deque of maxlen ``maxlen`` would give them.
 * The ring grows to ``maxlen`` as events come, so a thread that notes few events keeps a
 * few (a program that churns through threads keeps every finished thread's ring as long
 * as a record of one of its accesses lives).
 *
 * Consistency: the ring's thread writes it; a report reads it from any thread.  A write
 * changes the slot first and lets go of what the slot held after (that can free a code
 * object, and so run Python code); a read copies the slots, taking references, before it
 * allocates anything.  Free-threaded builds do both under the ring's critical section
 * (its own mutex: no lock shared between threads).
 */

#include "core.h"

#define WHERE_NONE 0     /* no frame of the program: the stack () */
#define WHERE_FRAME 1    /* where: a code object, lasti: its offset */
#define WHERE_STACK 2    /* where: a stack given by the caller */

typedef struct {
    long long ns;
    PyObject *kind;
    PyObject *label;
    PyObject *direction;
    PyObject *where;
    long lasti;
    int what;            /* WHERE_* */
} rw_event;

struct RW_EventRing {
    PyObject_HEAD
    Py_ssize_t maxlen;
    Py_ssize_t n;        /* events kept */
    Py_ssize_t next;     /* where the next event goes */
    Py_ssize_t cap;      /* slots allocated (grows to maxlen) */
    rw_event *items;
};

static void
event_release(rw_event *e)
{
    Py_XDECREF(e->kind);
    Py_XDECREF(e->label);
    Py_XDECREF(e->direction);
    Py_XDECREF(e->where);
}

/* Grow the ring (oldest first at index 0 afterwards): -1 with no error when memory is
 * short (the ring then overwrites its oldest event instead). */
static int
ring_grow(RW_EventRing *ring)
{
    Py_ssize_t cap = ring->cap ? ring->cap * 2 : 8;
    if (cap > ring->maxlen) {
        cap = ring->maxlen;
    }
    rw_event *items = PyMem_Calloc((size_t)cap, sizeof(rw_event));
    if (items == NULL) {
        return -1;
    }
    /* Full up to cap: the oldest is at next. */
    for (Py_ssize_t i = 0; i < ring->n; i++) {
        items[i] = ring->items[(ring->next + i) % ring->cap];
    }
    PyMem_Free(ring->items);
    ring->items = items;
    ring->next = ring->n;
    ring->cap = cap;
    return 0;
}

/* Store ``value`` in ``*field``, whose old value ``*dropped`` receives (to be released
 * once the ring is whole again); the same object stays as it is. */
static inline void
ring_store(PyObject **field, PyObject *value, PyObject **dropped)
{
    if (*field == value) {
        *dropped = NULL;
        return;
    }
    *dropped = *field;
    *field = Py_XNewRef(value);
}

void
rw_ring_note(RW_EventRing *ring, long long ns, PyObject *kind, PyObject *label,
             PyObject *direction, PyObject *where, long lasti, int is_stack)
{
    rw_event old = {0};
    Py_BEGIN_CRITICAL_SECTION(ring);
    if (ring->n == ring->cap && ring->cap < ring->maxlen) {
        ring_grow(ring);
    }
    if (ring->cap > 0) {
        rw_event *e = &ring->items[ring->next];
        if (ring->n < ring->cap) {
            ring->n++;   /* a slot never used: its fields are NULL */
        }
        e->ns = ns;
        /* The events of one lock repeat their kind, label and direction: the slot being
         * reused usually holds the same objects already. */
        ring_store(&e->kind, kind, &old.kind);
        ring_store(&e->label, label, &old.label);
        ring_store(&e->direction, direction, &old.direction);
        ring_store(&e->where, where, &old.where);
        e->lasti = lasti;
        e->what = where == NULL ? WHERE_NONE : is_stack ? WHERE_STACK : WHERE_FRAME;
        ring->next = (ring->next + 1) % ring->cap;
    }
    Py_END_CRITICAL_SECTION();
    event_release(&old);
}

/* The event as the pure-Python core keeps it: (ns, kind, label, direction, stack). */
static PyObject *
event_tuple(const rw_event *e)
{
    PyObject *stack;
    if (e->what == WHERE_STACK) {
        stack = Py_NewRef(e->where);
    }
    else if (e->what == WHERE_FRAME) {
        PyObject *pair = Py_BuildValue("(Ol)", e->where, e->lasti);
        stack = pair != NULL ? PyTuple_Pack(1, pair) : NULL;
        Py_XDECREF(pair);
    }
    else {
        stack = PyTuple_New(0);
    }
    if (stack == NULL) {
        return NULL;
    }
    return Py_BuildValue("(LOOON)", e->ns, e->kind, e->label, e->direction, stack);
}

/* A list of the events, oldest first. */
static PyObject *
ring_list(RW_EventRing *ring)
{
    rw_event *copy = NULL;
    Py_ssize_t n = 0;
    int short_of_memory = 0;
    Py_BEGIN_CRITICAL_SECTION(ring);
    n = ring->n;
    if (n > 0) {
        copy = PyMem_Malloc((size_t)n * sizeof(rw_event));
        if (copy == NULL) {
            short_of_memory = 1;
        }
        else {
            Py_ssize_t first = ring->n == ring->cap ? ring->next : 0;
            for (Py_ssize_t i = 0; i < n; i++) {
                rw_event *e = &copy[i];
                *e = ring->items[(first + i) % ring->cap];
                Py_INCREF(e->kind);
                Py_INCREF(e->label);
                Py_INCREF(e->direction);
                Py_XINCREF(e->where);
            }
        }
    }
    Py_END_CRITICAL_SECTION();
    if (short_of_memory) {
        return PyErr_NoMemory();
    }
    PyObject *result = PyList_New(n);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (result != NULL) {
            PyObject *item = event_tuple(&copy[i]);
            if (item == NULL) {
                Py_CLEAR(result);
            }
            else {
                PyList_SET_ITEM(result, i, item);
            }
        }
        event_release(&copy[i]);
    }
    PyMem_Free(copy);
    return result;
}

/* -- the type ---------------------------------------------------------------------------- */

static PyObject *
ring_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"maxlen", NULL};
    Py_ssize_t maxlen;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n:EventRing", kwlist, &maxlen)) {
        return NULL;
    }
    if (maxlen < 1) {
        PyErr_SetString(PyExc_ValueError, "EventRing: maxlen must be at least 1");
        return NULL;
    }
    RW_EventRing *ring = (RW_EventRing *)type->tp_alloc(type, 0);
    if (ring != NULL) {
        ring->maxlen = maxlen;
    }
    return (PyObject *)ring;
}

static int
ring_traverse(RW_EventRing *ring, visitproc visit, void *arg)
{
    for (Py_ssize_t i = 0; i < ring->n; i++) {
        Py_VISIT(ring->items[i].kind);
        Py_VISIT(ring->items[i].label);
        Py_VISIT(ring->items[i].direction);
        Py_VISIT(ring->items[i].where);
    }
    return 0;
}

static int
ring_clear(RW_EventRing *ring)
{
    rw_event *items = ring->items;
    Py_ssize_t n = ring->n;
    ring->items = NULL;
    ring->n = ring->next = ring->cap = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        event_release(&items[i]);
    }
    PyMem_Free(items);
    return 0;
}

static void
ring_dealloc(RW_EventRing *ring)
{
    PyObject_GC_UnTrack(ring);
    ring_clear(ring);
    Py_TYPE(ring)->tp_free((PyObject *)ring);
}

static Py_ssize_t
ring_len(RW_EventRing *ring)
{
    Py_ssize_t n;
    Py_BEGIN_CRITICAL_SECTION(ring);
    n = ring->n;
    Py_END_CRITICAL_SECTION();
    return n;
}

static PyObject *
ring_iter(RW_EventRing *ring)
{
    PyObject *events = ring_list(ring);
    if (events == NULL) {
        return NULL;
    }
    PyObject *it = PyObject_GetIter(events);
    Py_DECREF(events);
    return it;
}

static PySequenceMethods ring_as_sequence = {
    .sq_length = (lenfunc)ring_len,
};

static PyMemberDef ring_members[] = {
    {"maxlen", T_PYSSIZET, offsetof(RW_EventRing, maxlen), READONLY,
     "events kept at most (the oldest go first)"},
    {NULL}
};

PyTypeObject RW_EventRingType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.EventRing",
    .tp_doc = "EventRing(maxlen): a thread's recent sync events, oldest first when iterated.",
    .tp_basicsize = sizeof(RW_EventRing),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = ring_new,
    .tp_dealloc = (destructor)ring_dealloc,
    .tp_traverse = (traverseproc)ring_traverse,
    .tp_clear = (inquiry)ring_clear,
    .tp_iter = (getiterfunc)ring_iter,
    .tp_as_sequence = &ring_as_sequence,
    .tp_members = ring_members,
};

int
rw_events_ready(PyObject *module)
{
    if (PyType_Ready(&RW_EventRingType) < 0) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "EventRing", (PyObject *)&RW_EventRingType);
}
