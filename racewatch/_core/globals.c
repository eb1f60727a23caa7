/* Module globals that the module's own functions rebind (module_globals.py, the reference):
 * each name a location of the module's shadow (kind "module").
 *
 * The rewritten code calls track_globals(names) at the top of the module and gread,
 * gwrite, gdelete, gupdate, gstore around the reads and binds of those names; each finds
 * its module by the caller's globals (PyEval_GetGlobals) in a table keyed by the globals
 * dict.  TrackedModule, a subtype of the module type that a module with tracked names
 * becomes, checks ``module.x`` from other modules.
 *
 * CONSISTENCY.  The table is read without a lock: an entry is written whole before its key
 * is published, a table that grows is replaced by a copy (the old one is kept: a reader
 * may still be in it), and an entry's names, when a module registers again (a reload),
 * are replaced by a new set, the old one kept for the same reason.  Writers hold the
 * table's lock (free-threaded builds) or the GIL.
 */

#include "engine.h"
#include "tracked.h"

#ifdef Py_GIL_DISABLED
#define RW_ATOMIC_LOAD(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define RW_ATOMIC_STORE(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
static PyMutex table_mutex;
#else
#define RW_ATOMIC_LOAD(p) (p)
#define RW_ATOMIC_STORE(p, v) ((p) = (v))
#endif

static PyObject *str_load, *str_store, *str_delete, *str_name_key;

typedef struct {
    PyObject *globals;       /* NULL: an empty place; a strong reference */
    PyObject *shadow;        /* RW_Shadow */
    PyObject *names;         /* frozenset of the tracked names */
} rw_module_entry;

typedef struct {
    Py_ssize_t cap;          /* a power of two */
    Py_ssize_t n;
    rw_module_entry items[1];
} rw_module_table;

static rw_module_table *modules = NULL;
/* Bumped after every entry added or table emptied: a thread's cached answer of
 * rw_instrumented for its last globals (core.h) holds while this has not moved. */
long long rw_modules_generation = 0;
static PyObject *retired = NULL;   /* what the table let go of while a reader might hold it */

static inline size_t
ptr_hash(const void *p)
{
    uintptr_t x = (uintptr_t)p >> 4;
    return (size_t)(x * 0x9E3779B97F4A7C15ull);
}

static const rw_module_entry *
entry_of(PyObject *globals)
{
    rw_module_table *table = RW_ATOMIC_LOAD(modules);
    if (table == NULL || globals == NULL) {
        return NULL;
    }
    size_t mask = (size_t)table->cap - 1;
    for (size_t i = ptr_hash(globals) & mask;; i = (i + 1) & mask) {
        PyObject *g = RW_ATOMIC_LOAD(table->items[i].globals);
        if (g == globals) {
            return &table->items[i];
        }
        if (g == NULL) {
            return NULL;
        }
    }
}

static void
table_lock(void)
{
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&table_mutex);
#endif
}

static void
table_unlock(void)
{
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&table_mutex);
#endif
}

/* Add ``globals`` with ``names``, or add the names to its entry; under the table's lock.
 * Consumes nothing; returns 0 or -1. */
static int
register_module(PyObject *globals, PyObject *shadow, PyObject *names)
{
    rw_module_table *table = modules;
    if (table == NULL || (table->n + 1) * 2 > table->cap) {
        Py_ssize_t cap = table == NULL ? 16 : table->cap * 2;
        rw_module_table *grown = PyMem_RawCalloc(1, sizeof(rw_module_table)
                                                 + (size_t)(cap - 1) * sizeof(rw_module_entry));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        grown->cap = cap;
        size_t mask = (size_t)cap - 1;
        for (Py_ssize_t i = 0; table != NULL && i < table->cap; i++) {
            if (table->items[i].globals == NULL) {
                continue;
            }
            size_t j = ptr_hash(table->items[i].globals) & mask;
            while (grown->items[j].globals != NULL) {
                j = (j + 1) & mask;
            }
            grown->items[j] = table->items[i];
            grown->n++;
        }
        RW_ATOMIC_STORE(modules, grown);   /* the old one is kept: see above */
        table = grown;
    }
    size_t mask = (size_t)table->cap - 1;
    size_t i = ptr_hash(globals) & mask;
    while (table->items[i].globals != NULL && table->items[i].globals != globals) {
        i = (i + 1) & mask;
    }
    rw_module_entry *e = &table->items[i];
    if (e->globals == NULL) {
        e->shadow = Py_NewRef(shadow);
        e->names = Py_NewRef(names);
        RW_ATOMIC_STORE(e->globals, Py_NewRef(globals));   /* published whole */
        table->n++;
        RW_ADD_RELEASE(&rw_modules_generation, 1);   /* after the entry: a reader that sees it, sees it */
        return 0;
    }
    PyObject *both = PyNumber_Or(e->names, names);
    if (both == NULL) {
        return -1;
    }
    if (PyList_Append(retired, e->names) < 0) {
        Py_DECREF(both);
        return -1;
    }
    Py_DECREF(e->names);
    RW_ATOMIC_STORE(e->names, both);
    return 0;
}

/* Make ``module`` (whose dict is ``globals``) a TrackedModule, when it is a plain module. */
static PyTypeObject RW_TrackedModuleType;

static void
retype_module(PyObject *globals)
{
    PyObject *name = PyDict_GetItemWithError(globals, str_name_key);   /* borrowed */
    PyObject *sys_modules = name != NULL && PyUnicode_Check(name)
                            ? PyImport_GetModuleDict() : NULL;
    PyObject *module = sys_modules != NULL ? PyDict_GetItemWithError(sys_modules, name) : NULL;
    if (module != NULL && Py_IS_TYPE(module, &PyModule_Type)
            && PyModule_GetDict(module) == globals) {
        Py_INCREF(module);
        PyObject *cls = (PyObject *)&RW_TrackedModuleType;
        if (PyObject_SetAttrString(module, "__class__", cls) < 0) {
            PyErr_Clear();   /* module.x from other modules goes unchecked */
        }
        Py_DECREF(module);
    }
    PyErr_Clear();
}

/* Whether ``globals`` are an instrumented module's (only its code's attribute accesses are
 * checked: object.c). */
int
rw_instrumented(PyObject *globals)
{
    return entry_of(globals) != NULL;
}

static PyObject *track_globals_of(PyObject *globals, PyObject *names);

static PyObject *
track_globals(PyObject *Py_UNUSED(module), PyObject *names)
{
    return track_globals_of(PyEval_GetGlobals(), names);
}

static PyObject *
mod_track_globals_of(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "track_globals_of(globals_dict, names)");
        return NULL;
    }
    return track_globals_of(args[0], args[1]);
}

/* The module whose dict is ``globals`` is instrumented, and these of its globals watched. */
static PyObject *
track_globals_of(PyObject *globals, PyObject *names)
{
    if (globals == NULL || !PyDict_Check(globals)) {
        Py_RETURN_NONE;
    }
    PyObject *set = PyFrozenSet_New(names);
    if (set == NULL) {
        return NULL;
    }
    PyObject *name = PyDict_GetItemWithError(globals, str_name_key);
    if (name == NULL && PyErr_Occurred()) {
        Py_DECREF(set);
        return NULL;
    }
    int depth = rw_settings->stack_depth < 8 ? rw_settings->stack_depth : 8;
    PyObject *stack = rw_capture(depth, NULL, NULL);
    PyObject *label = name != NULL && PyUnicode_Check(name) ? Py_NewRef(name)
                                                             : PyUnicode_FromString("?");
    PyObject *sh = stack != NULL && label != NULL
        ? (PyObject *)rw_shadow_new(rw_kind_names[RW_KIND_MODULE], stack, label) : NULL;
    Py_XDECREF(stack);
    Py_XDECREF(label);
    int rc = -1;
    if (sh != NULL) {
        table_lock();
        rc = register_module(globals, sh, set);
        table_unlock();
    }
    Py_XDECREF(sh);
    if (rc < 0) {
        Py_DECREF(set);
        return NULL;
    }
    if (PySet_GET_SIZE(set) > 0) {
        retype_module(globals);
    }
    Py_DECREF(set);
    Py_RETURN_NONE;
}

/* One access to global ``name`` of the module whose dict is ``globals``, by ``ts``, which
 * rw_enter_thread said is to be checked. */
static int
check_entered(RW_ThreadState *ts, PyObject *globals, PyObject *name, PyObject *op, int write,
              int found_unset)
{
    const rw_module_entry *e = entry_of(globals);
    if (e == NULL) {
        return 0;
    }
    int rc;
    RW_Shadow *sh = (RW_Shadow *)Py_NewRef(e->shadow);
    Py_INCREF(ts);
    rc = rw_shadow_fresh(sh);
    if (rc == 0) {
        rc = write ? rw_on_write(ts, sh, globals, name, op, 0)
                   : rw_on_read(ts, sh, globals, name, op);
    }
    if (rc == 0 && found_unset) {   /* the evidence of a lazy initialization */
        rc = rw_saw_unset(sh, name);
    }
    Py_DECREF(ts);
    Py_DECREF(sh);
    return rc;
}

/* One access to global ``name`` of the module whose dict is ``globals`` (NULL: the
 * calling code's).  The thread is asked first: a lone thread (a script's top-level loop
 * before it starts one) checks nothing, and needs neither the globals nor their entry in
 * the table. */
static int
check(PyObject *globals, PyObject *name, PyObject *op, int write, int found_unset)
{
    RW_ThreadState *ts;
    int rc = rw_enter_thread(&ts);
    if (rc <= 0) {
        return rc;
    }
    return check_entered(ts, globals != NULL ? globals : PyEval_GetGlobals(), name, op,
                         write, found_unset);
}

/* An access by the code that called the helper (gread, gwrite...). */
static int
check_caller(PyObject *name, PyObject *op, int write, int found_unset)
{
    if (!rw_enabled() || !(rw_settings->watch & RW_WATCH_GLOBAL)
            || !PyUnicode_Check(name)) {
        return 0;
    }
    return check(NULL, name, op, write, found_unset);
}

static PyObject *
gread(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "gread(name, value)");
        return NULL;
    }
    if (check_caller(args[0], str_load, 0, args[1] == Py_None) < 0) {
        return NULL;
    }
    return Py_NewRef(args[1]);
}

static PyObject *
gwrite(PyObject *Py_UNUSED(module), PyObject *name)
{
    if (check_caller(name, str_store, 1, 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
gdelete(PyObject *Py_UNUSED(module), PyObject *name)
{
    if (check_caller(name, str_delete, 1, 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
gupdate(PyObject *Py_UNUSED(module), PyObject *name)
{
    if (check_caller(name, str_load, 0, 0) < 0) {
        return NULL;
    }
    /* A tracked container's in-place operator (``seen |= new``) changes the container, and
     * returns it: the name is bound to the object it had, a read only. */
    PyObject *globals = PyEval_GetGlobals();
    PyObject *value = globals != NULL && PyUnicode_Check(name)
                      ? PyDict_GetItemWithError(globals, name) : NULL;
    if (value == NULL && PyErr_Occurred()) {
        return NULL;
    }
    if ((value == NULL || rw_public_of(Py_TYPE(value)) == NULL)
            && check_caller(name, str_store, 1, 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
gstore(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "gstore(name, value)");
        return NULL;
    }
    if (check_caller(args[0], str_store, 1, 0) < 0) {
        return NULL;
    }
    return Py_NewRef(args[1]);
}

static PyObject *
forget_modules(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    /* The table is replaced by an empty one.  A reader may still be in an entry of the old
     * one: on a free-threaded build its shadow and names are kept (the retired list).  Its
     * globals dict is only ever compared by address, and is let go at once: a module's
     * namespace must die with its module (at exit, a program's open files are flushed as
     * its globals go). */
    table_lock();
    rw_module_table *table = modules;
    rw_module_table *empty = NULL;
    int rc = 0;
    if (table != NULL) {
        empty = PyMem_RawCalloc(1, sizeof(rw_module_table)
                                + (size_t)(table->cap - 1) * sizeof(rw_module_entry));
        if (empty == NULL) {
            rc = -1;
            PyErr_NoMemory();
        }
        else {
            empty->cap = table->cap;
            RW_ATOMIC_STORE(modules, empty);
            RW_ADD_RELEASE(&rw_modules_generation, 1);
        }
    }
#ifdef Py_GIL_DISABLED
    for (Py_ssize_t i = 0; empty != NULL && i < table->cap && rc == 0; i++) {
        rw_module_entry *e = &table->items[i];
        if (e->globals != NULL) {
            rc = PyList_Append(retired, e->shadow) < 0 || PyList_Append(retired, e->names) < 0
                 ? -1 : 0;
        }
    }
#endif
    table_unlock();
    /* Released with no lock held: a namespace that goes may run finalizers. */
    for (Py_ssize_t i = 0; empty != NULL && i < table->cap; i++) {
        rw_module_entry *e = &table->items[i];
        if (e->globals != NULL) {
            Py_DECREF(e->shadow);
            Py_DECREF(e->names);
            Py_DECREF(e->globals);
        }
    }
#ifndef Py_GIL_DISABLED
    if (empty != NULL) {
        PyMem_RawFree(table);   /* no reader can be in it: none runs without the GIL */
    }
#endif
    if (rc < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* -- TrackedModule: module.x from other modules --------------------------------------------- */

static int
module_check(PyObject *self, PyObject *name, PyObject *op, int write)
{
    if (!rw_enabled() || !(rw_settings->watch & RW_WATCH_GLOBAL) || !PyUnicode_CheckExact(name)
            || !rw_instrumented_by(rw_tls_state, PyEval_GetGlobals())) {
        return 0;   /* checked from instrumented code only, as attributes are */
    }
    PyObject *globals = PyModule_GetDict(self);
    const rw_module_entry *e = entry_of(globals);
    if (e == NULL) {
        return 0;
    }
    int tracked = PySet_Contains(RW_ATOMIC_LOAD(((rw_module_entry *)e)->names), name);
    if (tracked <= 0) {
        return tracked;
    }
    return check(globals, name, op, write, 0);
}

static PyObject *
tmodule_getattro(PyObject *self, PyObject *name)
{
    PyObject *value = PyModule_Type.tp_getattro(self, name);
    if (value != NULL && module_check(self, name, str_load, 0) < 0) {
        Py_CLEAR(value);
    }
    return value;
}

static int
tmodule_setattro(PyObject *self, PyObject *name, PyObject *value)
{
    int rc = PyModule_Type.tp_setattro(self, name, value);
    if (rc == 0) {
        rc = module_check(self, name, value != NULL ? str_store : str_delete, 1);
    }
    return rc;
}

static PyTypeObject RW_TrackedModuleType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "module",
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_getattro = tmodule_getattro,
    .tp_setattro = tmodule_setattro,
};

void
rw_globals_after_fork(void)
{
#ifdef Py_GIL_DISABLED
    memset(&table_mutex, 0, sizeof(table_mutex));
#endif
}

static PyMethodDef globals_functions[] = {
    {"track_globals", track_globals, METH_O,
     "At the top of an instrumented module: watch these of its globals."},
    {"track_globals_of", RW_CFUNC(mod_track_globals_of), METH_FASTCALL,
     "track_globals_of(globals_dict, names): the same, for a module loaded already."},
    {"gread", RW_CFUNC(gread), METH_FASTCALL, "gread(name, value): a read; returns value."},
    {"gwrite", gwrite, METH_O, "gwrite(name): the statement before bound the global."},
    {"gdelete", gdelete, METH_O, "gdelete(name): the statement before deleted it."},
    {"gupdate", gupdate, METH_O, "gupdate(name): x += ...: a read and a write."},
    {"gstore", RW_CFUNC(gstore), METH_FASTCALL, "gstore(name, value): (x := value)."},
    {"forget_modules", forget_modules, METH_NOARGS, "No module's globals are watched."},
    {NULL}
};

int
rw_globals_ready(PyObject *module)
{
    if (retired == NULL) {
        RW_TrackedModuleType.tp_base = &PyModule_Type;
        RW_TrackedModuleType.tp_basicsize = PyModule_Type.tp_basicsize;
        RW_TrackedModuleType.tp_traverse = PyModule_Type.tp_traverse;
        RW_TrackedModuleType.tp_clear = PyModule_Type.tp_clear;
        RW_TrackedModuleType.tp_doc = PyModule_Type.tp_doc;
        if (PyType_Ready(&RW_TrackedModuleType) < 0
                || (str_load = PyUnicode_InternFromString("load")) == NULL
                || (str_store = PyUnicode_InternFromString("store")) == NULL
                || (str_delete = PyUnicode_InternFromString("delete")) == NULL
                || (str_name_key = PyUnicode_InternFromString("__name__")) == NULL
                || (retired = PyList_New(0)) == NULL) {
            return -1;
        }
    }
    if (PyModule_AddObjectRef(module, "TrackedModule", (PyObject *)&RW_TrackedModuleType) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, globals_functions);
}
