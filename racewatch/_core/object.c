/* Attributes (objects.py, the reference): each (object, name) of an instance of a class
 * that instrumented code defines is a location, and so is each (class, name) read through
 * such an instance.
 *
 * hook_class(cls) replaces the type's tp_getattro by the one below, which calls what the
 * type had, then checks the access; a subclass made later inherits it.  What each type had
 * is kept in a table keyed by the type (the hooks), found again on every access: a
 * subclass that inherited the hook finds its first hooked base's.  Writes go through
 * ``__setattr__`` and ``__delattr__`` put in the class's namespace (wrapping the class's
 * own, if it had them), not through tp_setattro: ``object.__setattr__(obj, ...)``, which
 * frozen dataclasses and attrs call, refuses a type whose C-level setattro is not its
 * base's (typeobject.c's hackcheck) and accepts one whose __setattr__ is in its
 * namespace.  Where the location is, is decided as objects.py explains (a data
 * descriptor's own code, the instance, a plain value of the class, nothing for a method).
 *
 * An object's shadow is found by its address in a table of ObjRef entries: an ObjRef is
 * a weak reference to the object (a subtype of weakref.ref) holding the shadow, whose
 * callback takes the entry out when the object dies, before its address can be reused.
 *
 * CONSISTENCY.  GIL builds: neither table runs Python code while it changes (an ObjRef
 * and its shadow are made before the table is touched, since making them may collect
 * garbage and so run other entries' callbacks).  Free-threaded builds: the object table
 * is split by address into stripes, each under its own mutex; the hooks table is
 * read without a lock: an entry is written whole before its type pointer is published,
 * and a table that grows is replaced by a copy, the old one kept (readers may still be
 * in it).
 */

#include "engine.h"

#ifdef Py_GIL_DISABLED
#define RW_ATOMIC_LOAD(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define RW_ATOMIC_STORE(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#else
#define RW_ATOMIC_LOAD(p) (p)
#define RW_ATOMIC_STORE(p, v) ((p) = (v))
#endif

static PyObject *str_dict, *str_getattr, *str_setattr, *str_delattr, *str_vars;
static PyObject *str_setattr_name, *str_delattr_name;

static PyObject *obj_getattro(PyObject *obj, PyObject *name);
static PyMethodDef setattr_def, delattr_def;

/* -- the hooks: what each hooked type had ------------------------------------------------ */

typedef struct {
    PyTypeObject *type;      /* NULL: an empty place; HOOK_DEAD: the type died */
    PyObject *alive;         /* a weak reference to the type, whose callback marks it dead */
    getattrofunc getattro;
    PyObject *own_setattr;   /* the __setattr__ its namespace held (a strong reference), */
    PyObject *own_delattr;   /* or NULL; likewise __delattr__ */
    char installed;          /* this type itself was hooked (not only a subclass of one) */
    char generic_next;       /* neither its own, and object's come next in its MRO */
} rw_hook;

typedef struct {
    Py_ssize_t cap;          /* a power of two */
    Py_ssize_t n;
    rw_hook items[1];
} rw_hook_table;

static rw_hook_table *hooks = NULL;
static PyObject *type_died_callback = NULL;
/* A dead type's place: probes go past it, no type is ever it, and the table's next copy
 * leaves it out.  Without it, a class made where a dead hooked class was would be taken
 * for it (its slots, its "already hooked"), and stop() would write into freed memory. */
#define HOOK_DEAD ((PyTypeObject *)1)
#ifdef Py_GIL_DISABLED
static PyMutex hooks_mutex;
#endif

static inline size_t
ptr_hash(const void *p)
{
    uintptr_t x = (uintptr_t)p >> 4;
    return (size_t)(x * 0x9E3779B97F4A7C15ull);
}

static const rw_hook *
hook_find(rw_hook_table *table, PyTypeObject *type)
{
    if (table == NULL) {
        return NULL;
    }
    size_t mask = (size_t)table->cap - 1;
    for (size_t i = ptr_hash(type) & mask;; i = (i + 1) & mask) {
        PyTypeObject *t = RW_ATOMIC_LOAD(table->items[i].type);
        if (t == type) {
            return &table->items[i];
        }
        if (t == NULL) {
            return NULL;
        }
    }
}

/* Add (or find) the entry of ``type``; called with the hooks' lock held (or the GIL).
 * ``alive`` (a weak reference to the type, made beforehand: making it may collect garbage)
 * is taken by a new entry, and released otherwise. */
static rw_hook *
hook_add(PyTypeObject *type, getattrofunc getattro, PyObject *alive)
{
    rw_hook_table *table = hooks;
    if (table == NULL || (table->n + 1) * 2 > table->cap) {
        Py_ssize_t cap = table == NULL ? 16 : table->cap * 2;
        rw_hook_table *grown = PyMem_RawCalloc(1, sizeof(rw_hook_table)
                                               + (size_t)(cap - 1) * sizeof(rw_hook));
        if (grown == NULL) {
            Py_DECREF(alive);
            PyErr_NoMemory();
            return NULL;
        }
        grown->cap = cap;
        for (Py_ssize_t i = 0; table != NULL && i < table->cap; i++) {
            rw_hook *h = &table->items[i];
            if (h->type == NULL || h->type == HOOK_DEAD) {
                continue;
            }
            size_t mask = (size_t)cap - 1;
            size_t j = ptr_hash(h->type) & mask;
            while (grown->items[j].type != NULL) {
                j = (j + 1) & mask;
            }
            grown->items[j] = *h;
            grown->n++;
        }
        /* The old table is kept: on a free-threaded build a reader may still be in it. */
        RW_ATOMIC_STORE(hooks, grown);
        table = grown;
    }
    size_t mask = (size_t)table->cap - 1;
    size_t i = ptr_hash(type) & mask;
    while (table->items[i].type != NULL && table->items[i].type != type) {
        i = (i + 1) & mask;
    }
    rw_hook *h = &table->items[i];
    if (h->type == NULL) {
        h->alive = alive;
        h->getattro = getattro;
        h->own_setattr = h->own_delattr = NULL;
        h->installed = 0;
        RW_ATOMIC_STORE(h->type, type);   /* published whole */
        table->n++;
    }
    else {
        Py_DECREF(alive);
    }
    return h;
}

/* A weak reference to ``type`` whose callback marks its entry dead, or NULL (an error). */
static PyObject *
alive_ref(PyTypeObject *type)
{
    return PyWeakref_NewRef((PyObject *)type, type_died_callback);
}

/* The weak reference's callback: a hooked type (or a subclass that inherited the hook)
 * is dying, its memory not yet freed; its entry is marked dead and lets go of what it
 * held. */
static PyObject *
type_died(PyObject *Py_UNUSED(module), PyObject *alive)
{
    PyObject *own_set = NULL, *own_del = NULL, *ref = NULL;
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&hooks_mutex);
#endif
    rw_hook_table *table = hooks;
    for (Py_ssize_t i = 0; table != NULL && i < table->cap; i++) {
        rw_hook *h = &table->items[i];
        if (h->alive == alive && h->type != NULL && h->type != HOOK_DEAD) {
            RW_ATOMIC_STORE(h->type, HOOK_DEAD);
            own_set = h->own_setattr;
            own_del = h->own_delattr;
            ref = h->alive;
            h->own_setattr = h->own_delattr = h->alive = NULL;
            h->installed = 0;
            break;
        }
    }
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&hooks_mutex);
#endif
    Py_XDECREF(own_set);
    Py_XDECREF(own_del);
    Py_XDECREF(ref);
    Py_RETURN_NONE;
}

/* What ``type`` had before the hook: its own entry, or its first hooked base's (a
 * subclass inherits the hook), remembered for next time.  Never NULL for a type whose
 * slots are the hooks. */
static const rw_hook *
hook_of(PyTypeObject *type)
{
    const rw_hook *h = hook_find(RW_ATOMIC_LOAD(hooks), type);
    if (h != NULL) {
        return h;
    }
    PyObject *mro = type->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0;
    for (Py_ssize_t i = 1; i < n && h == NULL; i++) {
        h = hook_find(RW_ATOMIC_LOAD(hooks), (PyTypeObject *)PyTuple_GET_ITEM(mro, i));
    }
    if (h == NULL) {
        return NULL;
    }
    const rw_hook *mine;
    getattrofunc getattro = h->getattro;
    PyObject *alive = alive_ref(type);
    if (alive == NULL) {
        PyErr_Clear();
        return h;
    }
    /* making it may have collected garbage: h may be a dead type's now, look again */
    h = hook_find(RW_ATOMIC_LOAD(hooks), type);
    if (h != NULL) {
        Py_DECREF(alive);
        return h;
    }
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&hooks_mutex);
#endif
    mine = hook_add(type, getattro, alive);
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&hooks_mutex);
#endif
    if (mine == NULL) {
        PyErr_Clear();
        return h;
    }
    return mine;
}

/* Whether the next __setattr__ and __delattr__ after ``type`` in its MRO are object's. */
static int
generic_after(PyTypeObject *type)
{
    PyObject *mro = type->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0;
    for (Py_ssize_t i = 1; i < n; i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (base == &PyBaseObject_Type) {
            return 1;
        }
        PyObject *ns = base->tp_dict;
        if (ns == NULL || PyDict_Contains(ns, str_setattr_name) != 0
                || PyDict_Contains(ns, str_delattr_name) != 0) {
            PyErr_Clear();
            return 0;
        }
    }
    return 0;
}

static PyObject *
hook_class(PyObject *Py_UNUSED(module), PyObject *cls)
{
    if (!PyType_Check(cls)) {
        return Py_NewRef(cls);   /* a class decorator that did not return a class */
    }
    PyTypeObject *type = (PyTypeObject *)cls;
    if (!(type->tp_flags & Py_TPFLAGS_HEAPTYPE) || (type->tp_flags & Py_TPFLAGS_IMMUTABLETYPE)) {
        return Py_NewRef(cls);
    }
    int rc = 0;
    rw_hook *h = NULL;
    PyObject *ns = type->tp_dict;
    PyObject *own_set = ns != NULL ? PyDict_GetItemWithError(ns, str_setattr_name) : NULL;
    PyObject *own_del = ns != NULL && !PyErr_Occurred()
                        ? PyDict_GetItemWithError(ns, str_delattr_name) : NULL;
    if (PyErr_Occurred()) {
        return NULL;
    }
    PyObject *alive = alive_ref(type);
    if (alive == NULL) {
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&hooks_mutex);
#endif
    const rw_hook *known = hook_find(hooks, type);
    if (known == NULL || !known->installed) {
        getattrofunc get = type->tp_getattro == obj_getattro && known != NULL
                           ? known->getattro : type->tp_getattro;
        h = hook_add(type, get, alive);
        if (h == NULL) {
            rc = -1;
        }
        else {
            h->installed = 1;
            Py_XSETREF(h->own_setattr, Py_XNewRef(own_set));
            Py_XSETREF(h->own_delattr, Py_XNewRef(own_del));
            h->generic_next = own_set == NULL && own_del == NULL && generic_after(type);
            type->tp_getattro = obj_getattro;
        }
    }
    else {
        Py_DECREF(alive);
    }
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&hooks_mutex);
#endif
    if (rc < 0) {
        return NULL;
    }
    if (h != NULL) {
        /* Setting them updates the type's tp_setattro (to the one that looks them up). */
        PyObject *set = PyDescr_NewMethod(type, &setattr_def);
        PyObject *del = set != NULL ? PyDescr_NewMethod(type, &delattr_def) : NULL;
        /* type's own setattro: a metaclass's __setattr__ has no say in this */
        if (del == NULL || PyType_Type.tp_setattro(cls, str_setattr_name, set) < 0
                || PyType_Type.tp_setattro(cls, str_delattr_name, del) < 0) {
            rc = -1;
        }
        Py_XDECREF(set);
        Py_XDECREF(del);
    }
    PyType_Modified(type);   /* the interpreter's caches and specializations go */
    if (rc < 0) {
        return NULL;
    }
    return Py_NewRef(cls);
}

/* -- the objects' shadows: ObjRef and the table ------------------------------------------ */

typedef struct {
    PyWeakReference ref;
    void *addr;              /* the object's address: its key in the table */
    PyObject *shadow;        /* RW_Shadow */
} RW_ObjRef;

static PyTypeObject RW_ObjRefType;

#define STRIPES 64

typedef struct {
    void *addr;              /* NULL: never used; TOMBSTONE: used, now free */
    RW_ObjRef *ref;          /* a strong reference */
} rw_objslot;

typedef struct {
    rw_objslot *slots;
    Py_ssize_t cap, used, filled;   /* filled: used + tombstones */
#ifdef Py_GIL_DISABLED
    PyMutex mutex;
#endif
} rw_stripe;

#define TOMBSTONE ((void *)1)

static rw_stripe stripes[STRIPES];
/* How many times every object was forgotten (stop, fork): an attribute a thread remembers
 * seeing before that is not seen in the new history. */
static long long forgotten = 0;
static PyObject *died_callback = NULL;

static inline rw_stripe *
stripe_of(const void *addr)
{
    return &stripes[(ptr_hash(addr) >> 32) % STRIPES];
}

static inline void
stripe_lock(rw_stripe *s)
{
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&s->mutex);
#else
    (void)s;
#endif
}

static inline void
stripe_unlock(rw_stripe *s)
{
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&s->mutex);
#else
    (void)s;
#endif
}

static rw_objslot *
slot_find(rw_stripe *s, const void *addr, int for_insert)
{
    if (s->cap == 0) {
        return NULL;
    }
    size_t mask = (size_t)s->cap - 1;
    rw_objslot *free_slot = NULL;
    for (size_t i = ptr_hash(addr) & mask;; i = (i + 1) & mask) {
        rw_objslot *slot = &s->slots[i];
        if (slot->addr == addr) {
            return slot;
        }
        if (slot->addr == TOMBSTONE && free_slot == NULL) {
            free_slot = slot;
        }
        if (slot->addr == NULL) {
            return for_insert ? (free_slot != NULL ? free_slot : slot) : NULL;
        }
    }
}

/* Grow (or clean) the stripe's table so that one more entry fits; no Python code runs. */
static int
stripe_reserve(rw_stripe *s)
{
    if ((s->filled + 1) * 2 <= s->cap) {
        return 0;
    }
    Py_ssize_t cap = s->cap == 0 ? 64 : ((s->used + 1) * 4 > s->cap ? s->cap * 2 : s->cap);
    rw_objslot *slots = PyMem_RawCalloc((size_t)cap, sizeof(rw_objslot));
    if (slots == NULL) {
        return -1;
    }
    rw_objslot *old = s->slots;
    Py_ssize_t old_cap = s->cap;
    s->slots = slots;
    s->cap = cap;
    s->filled = s->used;
    for (Py_ssize_t i = 0; i < old_cap; i++) {
        if (old[i].addr != NULL && old[i].addr != TOMBSTONE) {
            size_t mask = (size_t)cap - 1;
            size_t j = ptr_hash(old[i].addr) & mask;
            while (slots[j].addr != NULL) {
                j = (j + 1) & mask;
            }
            slots[j] = old[i];
        }
    }
    PyMem_RawFree(old);
    return 0;
}

/* object_ref's making of a new ObjRef for ``target`` (first use), in the stripe ``s``. */
static RW_ObjRef *
object_ref_make(PyObject *target, rw_stripe *s)
{
    RW_ObjRef *found = NULL;
    if (!rw_tracking() || !PyType_SUPPORTS_WEAKREFS(Py_TYPE(target))) {
        return NULL;
    }
    int is_class = PyType_Check(target);
    PyObject *name = PyObject_GetAttrString(is_class ? target : (PyObject *)Py_TYPE(target),
                                            "__qualname__");
    if (name == NULL) {
        PyErr_Clear();
        name = PyUnicode_FromString(is_class ? ((PyTypeObject *)target)->tp_name
                                             : Py_TYPE(target)->tp_name);
        if (name == NULL) {
            return NULL;
        }
    }
    int depth = rw_settings->stack_depth < 8 ? rw_settings->stack_depth : 8;
    PyObject *stack = rw_capture(depth, NULL, NULL);
    PyObject *made = stack != NULL
        ? (PyObject *)rw_shadow_new(rw_kind_names[is_class ? RW_KIND_CLASS : RW_KIND_OBJECT],
                                    stack, name)
        : NULL;
    Py_XDECREF(stack);
    Py_DECREF(name);
    RW_ObjRef *ref = made != NULL
        ? (RW_ObjRef *)PyObject_CallFunctionObjArgs((PyObject *)&RW_ObjRefType, target,
                                                    died_callback, NULL)
        : NULL;
    if (ref == NULL) {
        Py_XDECREF(made);
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();   /* cannot be weakly referenced after all */
        }
        return NULL;
    }
    ref->addr = target;
    ref->shadow = made;
    /* Made first, then published: making them may have run another entry's callback. */
    stripe_lock(s);
    rw_objslot *slot = slot_find(s, target, 0);
    if (slot != NULL) {
        found = (RW_ObjRef *)Py_NewRef(slot->ref);   /* another thread was first */
    }
    else if (stripe_reserve(s) == 0) {
        slot = slot_find(s, target, 1);
        if (slot->addr == NULL) {
            s->filled++;
        }
        slot->addr = target;
        slot->ref = (RW_ObjRef *)Py_NewRef(ref);
        s->used++;
        found = (RW_ObjRef *)Py_NewRef(ref);
    }
    stripe_unlock(s);
    Py_DECREF(ref);
    if (found == NULL && !PyErr_Occurred()) {
        PyErr_NoMemory();
    }
    return found;
}

/* The ObjRef of ``target`` (a new reference), holding the shadow of its attributes, made
 * on first use; NULL with no error set when it cannot be watched (not weakly
 * referenceable, the budget spent).  The lookup is kept apart from the making, which
 * every access after the first skips. */
static inline RW_ObjRef *
object_ref(PyObject *target)
{
    rw_stripe *s = stripe_of(target);
    RW_ObjRef *found = NULL;
    stripe_lock(s);
    rw_objslot *slot = slot_find(s, target, 0);
    if (slot != NULL) {
        found = (RW_ObjRef *)Py_NewRef(slot->ref);
    }
    stripe_unlock(s);
    return found != NULL ? found : object_ref_make(target, s);
}

/* The shadow of ``target``'s attributes (a new reference), or NULL as object_ref. */
static PyObject *
object_shadow(PyObject *target)
{
    RW_ObjRef *ref = object_ref(target);
    if (ref == NULL) {
        return NULL;
    }
    PyObject *sh = Py_NewRef(ref->shadow);
    Py_DECREF(ref);
    return sh;
}

/* The weak reference's callback: the object is dying; its entry goes. */
static PyObject *
object_died(PyObject *Py_UNUSED(module), PyObject *arg)
{
    if (!Py_IS_TYPE(arg, &RW_ObjRefType)) {
        Py_RETURN_NONE;
    }
    RW_ObjRef *ref = (RW_ObjRef *)arg;
    rw_stripe *s = stripe_of(ref->addr);
    RW_ObjRef *dropped = NULL;
    stripe_lock(s);
    rw_objslot *slot = slot_find(s, ref->addr, 0);
    if (slot != NULL && slot->ref == ref) {
        dropped = slot->ref;
        slot->addr = TOMBSTONE;
        slot->ref = NULL;
        s->used--;
    }
    stripe_unlock(s);
    Py_XDECREF(dropped);
    Py_RETURN_NONE;
}

/* Forget every object's shadow (racewatch.stop(), and a forked child). */
static void
forget_objects(int after_fork)
{
    RW_ADD(&forgotten, 1);
    for (int i = 0; i < STRIPES; i++) {
        rw_stripe *s = &stripes[i];
#ifdef Py_GIL_DISABLED
        if (after_fork) {
            memset(&s->mutex, 0, sizeof(s->mutex));
        }
#else
        (void)after_fork;
#endif
        stripe_lock(s);
        rw_objslot *slots = s->slots;
        Py_ssize_t cap = s->cap;
        s->slots = NULL;
        s->cap = s->used = s->filled = 0;
        stripe_unlock(s);
        for (Py_ssize_t j = 0; j < cap; j++) {
            if (slots[j].addr != NULL && slots[j].addr != TOMBSTONE) {
                Py_DECREF(slots[j].ref);
            }
        }
        PyMem_RawFree(slots);
    }
}

static int
objref_traverse(RW_ObjRef *ref, visitproc visit, void *arg)
{
    Py_VISIT(ref->shadow);
    return _PyWeakref_RefType.tp_traverse((PyObject *)ref, visit, arg);
}

static int
objref_clear(RW_ObjRef *ref)
{
    Py_CLEAR(ref->shadow);
    return _PyWeakref_RefType.tp_clear((PyObject *)ref);
}

static void
objref_dealloc(RW_ObjRef *ref)
{
    Py_CLEAR(ref->shadow);
    _PyWeakref_RefType.tp_dealloc((PyObject *)ref);
}

static PyTypeObject RW_ObjRefType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.ObjRef",
    .tp_doc = "A weak reference to a watched object, holding the shadow of its attributes.",
    .tp_basicsize = sizeof(RW_ObjRef),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)objref_traverse,
    .tp_clear = (inquiry)objref_clear,
    .tp_dealloc = (destructor)objref_dealloc,
};

/* -- checking an access ------------------------------------------------------------------- */

enum { CHECK_READ, CHECK_WRITE, CHECK_ALL };

static inline rw_attr_seen *
seen_entry(RW_ThreadState *ts, PyObject *target, PyObject *name)
{
    uintptr_t i = ((uintptr_t)target >> 4) ^ ((uintptr_t)name >> 3);
    return &ts->attr_seen[i & (RW_ATTR_SEEN - 1)];
}

/* An access to attribute ``name`` of ``target`` that this thread made already in its
 * current epoch (a read: a read or a write; a write: a write): counted as the access it
 * is, not checked again (see check()).  1 when it was, 0 when not, -1 on error. */
static inline int
seen_again(RW_ThreadState *ts, PyObject *target, PyObject *name, int write)
{
    if (ts == NULL || ts->busy || ts->ignoring) {
        return 0;
    }
    rw_attr_seen *seen = seen_entry(ts, target, name);
    if (seen->target != target || seen->name != name || seen->clock != ts->clock
            || (write && !seen->write) || seen->ref == NULL
            || seen->forgotten != RW_LOAD(&forgotten)
            || ((PyWeakReference *)seen->ref)->wr_object != target) {
        return 0;
    }
    ts->accesses++;
    if (!(ts->accesses & RW_BUDGET_MASK) && rw_settings->budget != NULL
            && rw_settings->budget != Py_None && rw_budget_check(ts) < 0) {
        return -1;
    }
    return 1;
}

/* One access to attribute ``name`` of ``target`` (NULL: every attribute); -1 with an
 * exception set on error.  An attribute this thread read (or wrote) already in its current
 * epoch is not checked again for a read (or anything): objects.py's ``attr_seen`` says
 * why that is sound, and the pure-Python core keeps the same table the same way.
 * ``probed``: the calling thread's state when the caller looked (target, name) up in that
 * table already and missed, else NULL. */
/* The reads that found an attribute or a global unset: {(shadow serial, name)}, at most
 * UNSET_LIMIT of them (racewatch/runtime/unset.py, which shares this set, says why). */
#define UNSET_LIMIT (1 << 16)
static PyObject *unset_seen = NULL;

int
rw_saw_unset(RW_Shadow *sh, PyObject *name)
{
    if (PySet_GET_SIZE(unset_seen) >= UNSET_LIMIT && PySet_Clear(unset_seen) < 0) {
        return -1;
    }
    PyObject *entry = Py_BuildValue("(LO)", sh->serial, name);
    if (entry == NULL) {
        return -1;
    }
    int rc = PySet_Add(unset_seen, entry);
    Py_DECREF(entry);
    return rc;
}

static int
check(RW_ThreadState *probed, PyObject *target, PyObject *name, PyObject *op, int what,
      int found_unset)
{
    RW_ThreadState *ts;
    int e = probed != NULL ? rw_enter_thread_as(probed, &ts) : rw_enter_thread(&ts);
    if (e <= 0) {
        return e;
    }
    rw_attr_seen *seen = NULL;
    if (what != CHECK_ALL) {
        seen = seen_entry(ts, target, name);
        if (probed == NULL && seen->ref != NULL && seen->target == target && seen->name == name
                && seen->clock == ts->clock && (seen->write || what == CHECK_READ)
                && seen->forgotten == RW_LOAD(&forgotten)
                && ((PyWeakReference *)seen->ref)->wr_object == target) {
            return 0;
        }
    }
    Py_INCREF(ts);
    RW_ObjRef *ref = object_ref(target);
    if (ref == NULL) {
        Py_DECREF(ts);
        return PyErr_Occurred() ? -1 : 0;
    }
    RW_Shadow *sh = (RW_Shadow *)ref->shadow;
    e = rw_shadow_fresh(sh);
    if (e == 0) {
        e = what == CHECK_ALL ? rw_on_read_all(ts, sh, op)
            : what == CHECK_WRITE ? rw_on_write(ts, sh, target, name, op, 0)
            : rw_on_read(ts, sh, target, name, op);
    }
    if (e == 0 && found_unset && what == CHECK_READ) {
        e = rw_saw_unset(sh, name);
    }
    if (e == 0 && seen != NULL) {
        int same = seen->ref == (PyObject *)ref && seen->name == name
                   && seen->clock == ts->clock && seen->forgotten == RW_LOAD(&forgotten);
        seen->write = (char)(what == CHECK_WRITE || (same && seen->write));
        seen->target = target;
        seen->clock = ts->clock;
        seen->forgotten = RW_LOAD(&forgotten);
        Py_XSETREF(seen->name, Py_NewRef(name));
        Py_XSETREF(seen->ref, Py_NewRef(ref));
    }
    Py_DECREF(ref);
    Py_DECREF(ts);
    return e;
}

static inline int
is_data_descriptor(PyObject *descr)
{
    return Py_TYPE(descr)->tp_descr_set != NULL;
}

/* What the type finds for ``name`` (a new reference, or NULL). */
static inline PyObject *
class_lookup(PyTypeObject *type, PyObject *name)
{
#if RW_PY313
    return _PyType_LookupRef(type, name);
#else
    return Py_XNewRef(_PyType_Lookup(type, name));
#endif
}

/* The class in ``type``'s MRO whose namespace holds ``name`` (borrowed), or ``type``. */
static PyObject *
owner_of(PyTypeObject *type, PyObject *name)
{
    PyObject *mro = type->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTypeObject *k = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyObject *ns = k->tp_dict;
        if (ns != NULL && PyDict_Contains(ns, name) > 0) {
            return (PyObject *)k;
        }
    }
    PyErr_Clear();
    return (PyObject *)type;
}

/* The read ``obj.name`` gave ``value`` (NULL: it raised AttributeError); ``probed`` as
 * check()'s, for (obj, name). */
static int
after_get(RW_ThreadState *probed, PyObject *obj, PyObject *name, PyObject *value)
{
    PyTypeObject *type = Py_TYPE(obj);
    PyObject *descr = class_lookup(type, name);
    PyObject *target = obj;
    int what = CHECK_READ;
    if (descr != NULL) {
        if (is_data_descriptor(descr)) {
            if (Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
                target = obj;
            }
            else if (Py_IS_TYPE(descr, &PyGetSetDescr_Type)
                     && PyUnicode_Compare(name, str_dict) == 0) {
                what = CHECK_ALL;
            }
            else {
                target = NULL;   /* a property's own code is what it touches */
            }
        }
        else if (Py_TYPE(descr)->tp_descr_get != NULL) {
            target = NULL;       /* a method: the class's code, not data */
        }
        else if (value == descr) {
            target = owner_of(type, name);   /* the class whose attribute it is */
        }
        Py_DECREF(descr);
    }
    if (target == NULL) {
        return 0;
    }
    return check(target == obj ? probed : NULL, target, what == CHECK_ALL ? NULL : name,
                 what == CHECK_ALL ? str_vars : str_getattr, what,
                 value == NULL || value == Py_None);
}

/* Only an access made by instrumented code is checked: the state a program shares through
 * its own code (a library's code that reads its own attributes of an instance of a
 * subclass, threading.Thread's, has its own synchronization). */
static inline int
from_instrumented_code(PyObject *name, RW_ThreadState **pts)
{
    if (!(rw_enabled() && (rw_settings->watch & RW_WATCH_ATTR) && PyUnicode_CheckExact(name))) {
        return 0;
    }
    *pts = rw_tls_state;   /* the caller's state (or NULL), read once for the whole access */
    return rw_instrumented_by(*pts, PyEval_GetGlobals());
}

static PyObject *
obj_getattro(PyObject *obj, PyObject *name)
{
    const rw_hook *h = hook_of(Py_TYPE(obj));
    PyObject *value = h != NULL ? h->getattro(obj, name) : PyObject_GenericGetAttr(obj, name);
    RW_ThreadState *ts = NULL;
    if (!from_instrumented_code(name, &ts)) {
        return value;
    }
    if (value == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return NULL;
        }
        PyObject *exc = rw_err_fetch();
        if (after_get(NULL, obj, name, NULL) < 0) {
            Py_XDECREF(exc);
            return NULL;
        }
        rw_err_restore(exc);
        return NULL;
    }
    int seen = seen_again(ts, obj, name, 0);
    if (seen < 0 || (seen == 0 && after_get(ts, obj, name, value) < 0)) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

static int
after_set(RW_ThreadState *probed, PyObject *obj, PyObject *name, PyObject *op)
{
    PyObject *descr = class_lookup(Py_TYPE(obj), name);
    int property = descr != NULL && is_data_descriptor(descr)
                   && !Py_IS_TYPE(descr, &PyMemberDescr_Type);
    Py_XDECREF(descr);
    if (property) {
        return 0;   /* a property's setter: its own code's accesses are checked */
    }
    return check(probed, obj, name, op, CHECK_WRITE, 0);
}

/* What ``super(cls, self).<attr>(*args)`` calls: the next ``attr`` in ``self``'s MRO after
 * ``cls``, unless ``own`` (the one ``cls``'s namespace had) says otherwise. */
static PyObject *
call_next(PyObject *self, PyTypeObject *cls, PyObject *attr, PyObject *own,
          PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *stack[3];
    stack[0] = self;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        stack[i + 1] = args[i];
    }
    if (own != NULL) {
        return PyObject_Vectorcall(own, stack, (size_t)nargs + 1, NULL);
    }
    PyObject *mro = Py_TYPE(self)->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0, i = 0;
    while (i < n && PyTuple_GET_ITEM(mro, i) != (PyObject *)cls) {
        i++;
    }
    for (i++; i < n; i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyObject *found = base->tp_dict != NULL
                          ? PyDict_GetItemWithError(base->tp_dict, attr) : NULL;
        if (found != NULL) {
            if (base == &PyBaseObject_Type) {
                /* object's own, without the call through its slot wrapper */
                int rc = PyObject_GenericSetAttr(self, args[0], nargs == 2 ? args[1] : NULL);
                return rc < 0 ? NULL : Py_NewRef(Py_None);
            }
            Py_INCREF(found);
            PyObject *r = PyObject_Vectorcall(found, stack, (size_t)nargs + 1, NULL);
            Py_DECREF(found);
            return r;
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    int rc = PyObject_GenericSetAttr(self, args[0], nargs == 2 ? args[1] : NULL);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

/* The __setattr__ (``nargs`` 2) and __delattr__ (1) put in a hooked class's namespace. */
static PyObject *
set_or_delete(PyObject *self, PyTypeObject *cls, PyObject *const *args, size_t nargsf,
              PyObject *kwnames, Py_ssize_t want)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    const char *what = want == 2 ? "__setattr__" : "__delattr__";
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames)) {
        PyErr_Format(PyExc_TypeError, "%s() takes no keyword arguments", what);
        return NULL;
    }
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "expected %zd argument%s, got %zd", want,
                     want == 1 ? "" : "s", nargs);
        return NULL;
    }
    const rw_hook *h = hook_find(RW_ATOMIC_LOAD(hooks), cls);
    PyObject *r;
    if (h != NULL && h->generic_next && Py_TYPE(self) == cls) {
        /* the usual class: object's own, without the walk and the call through its wrapper */
        r = PyObject_GenericSetAttr(self, args[0], want == 2 ? args[1] : NULL) < 0
            ? NULL : Py_NewRef(Py_None);
    }
    else {
        PyObject *own = h == NULL ? NULL : want == 2 ? h->own_setattr : h->own_delattr;
        r = call_next(self, cls, want == 2 ? str_setattr_name : str_delattr_name, own,
                      args, nargs);
    }
    RW_ThreadState *ts = NULL;
    if (r != NULL && from_instrumented_code(args[0], &ts)) {
        PyObject *op = want == 2 ? str_setattr : str_delattr;
        int seen = seen_again(ts, self, args[0], 1);
        if (seen < 0 || (seen == 0 && after_set(ts, self, args[0], op) < 0)) {
            Py_CLEAR(r);
        }
    }
    return r;
}

static PyObject *
obj_setattr_method(PyObject *self, PyTypeObject *cls, PyObject *const *args, size_t nargsf,
                   PyObject *kwnames)
{
    return set_or_delete(self, cls, args, nargsf, kwnames, 2);
}

static PyObject *
obj_delattr_method(PyObject *self, PyTypeObject *cls, PyObject *const *args, size_t nargsf,
                   PyObject *kwnames)
{
    return set_or_delete(self, cls, args, nargsf, kwnames, 1);
}

static PyMethodDef setattr_def = {
    "__setattr__", RW_CFUNC(obj_setattr_method), METH_METHOD | METH_FASTCALL | METH_KEYWORDS,
    "Implement setattr(self, name, value)."};
static PyMethodDef delattr_def = {
    "__delattr__", RW_CFUNC(obj_delattr_method), METH_METHOD | METH_FASTCALL | METH_KEYWORDS,
    "Implement delattr(self, name)."};

/* -- stop ------------------------------------------------------------------------------- */

/* Give ``type`` back its own ``name`` (``own``, or none when NULL); 0 when done or when
 * the program's own change to the class stands in the way (AttributeError, TypeError). */
static int
restore(PyTypeObject *type, PyObject *name, PyObject *own)
{
    if (PyType_Type.tp_setattro((PyObject *)type, name, own) == 0) {
        return 0;
    }
    if (PyErr_ExceptionMatches(PyExc_AttributeError) || PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}

static PyObject *
unhook_classes(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    /* Every type whose slot is the hook gets back what it had, and every hooked class its
     * own __setattr__ and __delattr__ (or none); the table stays, for a subclass made
     * meanwhile that still has the hook (it calls what the subclass had). */
    rw_hook_table *table = RW_ATOMIC_LOAD(hooks);
    int rc = 0;
    for (Py_ssize_t i = 0; table != NULL && i < table->cap; i++) {
        rw_hook *h = &table->items[i];
        PyTypeObject *type = h->type;
        if (type == NULL || type == HOOK_DEAD) {
            continue;
        }
        Py_INCREF(type);   /* what runs below (a collection) must not free it meanwhile */
        if (type->tp_getattro == obj_getattro) {
            type->tp_getattro = h->getattro;
            PyType_Modified(type);
        }
        if (h->installed) {
            h->installed = 0;
            PyObject *own_set = h->own_setattr, *own_del = h->own_delattr;
            h->own_setattr = h->own_delattr = NULL;
            /* type's own setattro: a metaclass's __setattr__ has no say in this.  A class
             * the program changed meanwhile (its hook deleted or replaced) keeps what it
             * has now, as objects.py's unhook_classes does; any other error is raised,
             * once every class had its turn. */
            if (restore(type, str_setattr_name, own_set) < 0
                    || restore(type, str_delattr_name, own_del) < 0) {
                rc = -1;
            }
            Py_XDECREF(own_set);
            Py_XDECREF(own_del);
        }
        Py_DECREF(type);
    }
    PyObject *exc = rc < 0 ? rw_err_fetch() : NULL;
    forget_objects(0);
    if (exc != NULL) {
        rw_err_restore(exc);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* object_access(target, name, op, write[, found_unset]): one access to an attribute of
 * ``target`` (a class's, from its name in the rewritten code: see objects.class_read). */
static PyObject *
object_access(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 4 || nargs > 5 || !PyUnicode_Check(args[1]) || !PyUnicode_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "object_access(target, name, op, write[, found_unset])");
        return NULL;
    }
    int write = PyObject_IsTrue(args[3]);
    int found_unset = nargs == 5 ? PyObject_IsTrue(args[4]) : 0;
    if (write < 0 || found_unset < 0) {
        return NULL;
    }
    PyObject *op = Py_NewRef(args[2]);
    PyUnicode_InternInPlace(&op);
    int rc = check(NULL, args[0], args[1], op, write ? CHECK_WRITE : CHECK_READ, found_unset);
    Py_DECREF(op);
    if (rc < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
object_shadow_of(PyObject *Py_UNUSED(module), PyObject *target)
{
    PyObject *sh = object_shadow(target);
    if (sh == NULL && !PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    return sh;
}

void
rw_objects_after_fork(void)
{
#ifdef Py_GIL_DISABLED
    memset(&hooks_mutex, 0, sizeof(hooks_mutex));
#endif
    forget_objects(1);
}

static PyMethodDef object_functions[] = {
    {"hook_class", hook_class, METH_O,
     "Watch the attributes of the class's instances (and of its subclasses'); returns it."},
    {"unhook_classes", unhook_classes, METH_NOARGS,
     "Give every hooked class back its own attribute slots; forget every object."},
    {"object_access", RW_CFUNC(object_access), METH_FASTCALL,
     "object_access(target, name, op, write[, found_unset]): one access to an attribute "
     "of target."},
    {"object_shadow_of", object_shadow_of, METH_O,
     "The shadow of an object's (or a class's) attributes, made on first use, or None."},
    {NULL}
};

static PyMethodDef died_def = {"_object_died", object_died, METH_O, NULL};
static PyMethodDef type_died_def = {"_type_died", type_died, METH_O, NULL};

int
rw_object_ready(PyObject *module)
{
    if (died_callback == NULL) {
        RW_ObjRefType.tp_base = &_PyWeakref_RefType;
        if (PyType_Ready(&RW_ObjRefType) < 0
                || (died_callback = PyCFunction_NewEx(&died_def, NULL, NULL)) == NULL
                || (type_died_callback = PyCFunction_NewEx(&type_died_def, NULL, NULL)) == NULL
                || (str_dict = PyUnicode_InternFromString("__dict__")) == NULL
                || (str_getattr = PyUnicode_InternFromString("getattr")) == NULL
                || (str_setattr = PyUnicode_InternFromString("setattr")) == NULL
                || (str_delattr = PyUnicode_InternFromString("delattr")) == NULL
                || (str_vars = PyUnicode_InternFromString("vars")) == NULL
                || (str_setattr_name = PyUnicode_InternFromString("__setattr__")) == NULL
                || (str_delattr_name = PyUnicode_InternFromString("__delattr__")) == NULL
                || (unset_seen = PySet_New(NULL)) == NULL) {
            return -1;
        }
    }
    if (PyModule_AddObjectRef(module, "unset_seen", unset_seen) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, object_functions);
}
