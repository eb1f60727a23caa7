/* The module racewatch._core: Settings (settings.py), the REGISTRY.solo slot, and the
 * module's own init.  runtime/core.py decides whether it is used at all; the runtime
 * modules then take their names from it. */

#include "core.h"

RW_Settings *rw_settings = NULL;
rw_counters_t rw_counters = {0, 0, 0, 0, 0};
PyObject *rw_solo = NULL;   /* a strong reference, or NULL for None */

/* -- Settings ------------------------------------------------------------------------------ */

static PyObject *
settings_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (!PyArg_ParseTuple(args, ":Settings") || (kwds != NULL && PyDict_GET_SIZE(kwds))) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "Settings() takes no arguments");
        }
        return NULL;
    }
    RW_Settings *s = (RW_Settings *)type->tp_alloc(type, 0);
    if (s == NULL) {
        return NULL;
    }
    s->enabled = 0;            /* racewatch.start() .. racewatch.stop() */
    s->tracking = 1;           /* False once the memory budget cut tracking of new dicts */
    s->stack_depth = 32;
    s->watch = RW_WATCH_ALL;
    s->sink = Py_NewRef(Py_None);
    s->budget = Py_NewRef(Py_None);
    s->tracking_cut = Py_NewRef(Py_None);
    return (PyObject *)s;
}

static int
settings_traverse(RW_Settings *s, visitproc visit, void *arg)
{
    Py_VISIT(s->sink);
    Py_VISIT(s->budget);
    Py_VISIT(s->tracking_cut);
    return 0;
}

static int
settings_clear(RW_Settings *s)
{
    Py_CLEAR(s->sink);
    Py_CLEAR(s->budget);
    Py_CLEAR(s->tracking_cut);
    return 0;
}

static void
settings_dealloc(RW_Settings *s)
{
    PyObject_GC_UnTrack(s);
    settings_clear(s);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *
settings_get_flag(RW_Settings *s, void *closure)
{
    return PyBool_FromLong(RW_LOAD((int *)((char *)s + (Py_ssize_t)closure)));
}

static int
settings_set_flag(RW_Settings *s, PyObject *value, void *closure)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete a Settings switch");
        return -1;
    }
    int flag = PyObject_IsTrue(value);
    if (flag < 0) {
        return -1;
    }
    RW_STORE((int *)((char *)s + (Py_ssize_t)closure), flag);
    return 0;
}

static PyObject *
settings_get_counter(RW_Settings *Py_UNUSED(s), void *closure)
{
    return PyLong_FromLongLong(RW_LOAD((long long *)((char *)&rw_counters
                                                     + (Py_ssize_t)closure)));
}

static int
settings_set_counter(RW_Settings *Py_UNUSED(s), PyObject *value, void *closure)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete a Settings counter");
        return -1;
    }
    long long n = PyLong_AsLongLong(value);
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    RW_STORE((long long *)((char *)&rw_counters + (Py_ssize_t)closure), n);
    return 0;
}

static PyObject *
settings_get_object(RW_Settings *s, void *closure)
{
    PyObject *value;
    Py_BEGIN_CRITICAL_SECTION(s);
    value = *(PyObject **)((char *)s + (Py_ssize_t)closure);
    value = Py_NewRef(value != NULL ? value : Py_None);
    Py_END_CRITICAL_SECTION();
    return value;
}

static int
settings_set_object(RW_Settings *s, PyObject *value, void *closure)
{
    PyObject *old;
    PyObject **field = (PyObject **)((char *)s + (Py_ssize_t)closure);
    Py_BEGIN_CRITICAL_SECTION(s);
    old = *field;
    RW_STORE(field, Py_NewRef(value != NULL ? value : Py_None));   /* see rw_has_budget */
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(old);
    return 0;
}

static PyGetSetDef settings_getset[] = {
    {"enabled", (getter)settings_get_flag, (setter)settings_set_flag,
     "racewatch.start() .. racewatch.stop()", (void *)offsetof(RW_Settings, enabled)},
    {"tracking", (getter)settings_get_flag, (setter)settings_set_flag,
     "False once the memory budget cut tracking of new dicts",
     (void *)offsetof(RW_Settings, tracking)},
    {"report_key_order", (getter)settings_get_flag, (setter)settings_set_flag,
     "inserts and deletes conflict with each other too",
     (void *)offsetof(RW_Settings, report_key_order)},
    {"sink", (getter)settings_get_object, (setter)settings_set_object,
     "callable(Conflict), set by the detector", (void *)offsetof(RW_Settings, sink)},
    {"budget", (getter)settings_get_object, (setter)settings_set_object,
     "a MemoryBudget (budget.py) when max_memory_mb is set",
     (void *)offsetof(RW_Settings, budget)},
    {"tracking_cut", (getter)settings_get_object, (setter)settings_set_object,
     "why and when tracking was cut, for every report",
     (void *)offsetof(RW_Settings, tracking_cut)},
    {"dicts_tracked", (getter)settings_get_counter, (setter)settings_set_counter, NULL,
     (void *)offsetof(rw_counters_t, dicts_tracked)},
    {"lists_tracked", (getter)settings_get_counter, (setter)settings_set_counter, NULL,
     (void *)offsetof(rw_counters_t, lists_tracked)},
    {"sets_tracked", (getter)settings_get_counter, (setter)settings_set_counter, NULL,
     (void *)offsetof(rw_counters_t, sets_tracked)},
    {"forgotten_keys", (getter)settings_get_counter, (setter)settings_set_counter,
     "deleted keys whose history the shadow let go",
     (void *)offsetof(rw_counters_t, forgotten_keys)},
    {"forgotten_lookups", (getter)settings_get_counter, (setter)settings_set_counter,
     "likewise, keys only looked up while they were absent",
     (void *)offsetof(rw_counters_t, forgotten_lookups)},
    {NULL}
};

static PyMemberDef settings_members[] = {
    {"stack_depth", T_INT, offsetof(RW_Settings, stack_depth), 0, NULL},
    {"watch", T_INT, offsetof(RW_Settings, watch), 0,
     "what is tracked: settings.WATCH_* bits (the watch option)"},
    {"started_ns", T_LONGLONG, offsetof(RW_Settings, started_ns), 0,
     "time.monotonic_ns() when the detector started"},
    {"generation", T_LONGLONG, offsetof(RW_Settings, generation), 0,
     "bumped in a forked child: shadows made before the fork start over"},
    {NULL}
};

PyTypeObject RW_SettingsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.Settings",
    .tp_doc = "The detector's runtime switches, read on every access.",
    .tp_basicsize = sizeof(RW_Settings),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = settings_new,
    .tp_dealloc = (destructor)settings_dealloc,
    .tp_traverse = (traverseproc)settings_traverse,
    .tp_clear = (inquiry)settings_clear,
    .tp_members = settings_members,
    .tp_getset = settings_getset,
};

/* -- REGISTRY.solo -------------------------------------------------------------------------- */

/* threads.py puts this descriptor on ThreadRegistry: REGISTRY.solo then lives here, where
 * every access reads it without a Python call (there is one registry). */
static PyObject *
solo_get(PyObject *self, PyObject *obj, PyObject *Py_UNUSED(type))
{
    if (obj == NULL) {
        return Py_NewRef(self);
    }
    PyObject *solo = rw_solo_get();
    return Py_NewRef(solo != NULL ? solo : Py_None);
}

static int
solo_set(PyObject *Py_UNUSED(self), PyObject *Py_UNUSED(obj), PyObject *value)
{
    PyObject *new = value != NULL && value != Py_None ? Py_NewRef(value) : NULL;
    PyObject *old;
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
    old = __atomic_exchange_n(&rw_solo, new, __ATOMIC_ACQ_REL);
#else
    old = rw_solo;
    rw_solo = new;
#endif
    /* Readers only compare the pointer with their own state: releasing is safe. */
    Py_XDECREF(old);
    return 0;
}

static PyTypeObject RW_SoloSlotType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.SoloSlot",
    .tp_doc = "REGISTRY.solo, kept where the compiled core reads it.",
    .tp_basicsize = sizeof(PyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_descr_get = solo_get,
    .tp_descr_set = solo_set,
};

/* -- module ---------------------------------------------------------------------------------- */

static PyObject *
after_fork_in_child(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    rw_stacks_after_fork();
    rw_objects_after_fork();
    rw_globals_after_fork();
    Py_RETURN_NONE;
}

/* A copy of the exact dict ``d`` read without taking its lock: for a forked child only,
 * where no other thread is left to change it.  Without the GIL, CPython 3.13 hands a
 * contended object lock straight to a thread waiting for it; if another thread forks
 * then, the child inherits the lock held by a thread it does not have (a lock-free read
 * of the dict, such as iterating it, may still fall back to taking that lock). */
static PyObject *
copy_dict_in_child(PyObject *Py_UNUSED(module), PyObject *d)
{
    if (!PyDict_CheckExact(d)) {
        PyErr_Format(PyExc_TypeError, "copy_dict_in_child: a dict, not %.100s",
                     Py_TYPE(d)->tp_name);
        return NULL;
    }
    PyObject *copy = PyDict_New();
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (copy != NULL && PyDict_Next(d, &pos, &key, &value)) {
        if (PyDict_SetItem(copy, key, value) < 0) {
            Py_CLEAR(copy);
        }
    }
    return copy;
}

static PyMethodDef module_functions[] = {
    {"capture", RW_CFUNC(rw_mod_capture), METH_FASTCALL,
     "capture(depth, frame=None): the interned stack of the caller (or of frame)."},
    {"leave_out_frames_of", rw_mod_leave_out_frames_of, METH_O,
     "Leave the frames of the module owning these globals out of captured stacks."},
    {"end_stacks_at_frames_of", rw_mod_end_stacks_at_frames_of, METH_O,
     "Captured stacks end at a frame of this module (which is itself left out)."},
    {"end_stacks_at_code", rw_mod_end_stacks_at_code, METH_O,
     "Captured stacks end at a frame running this code (which is itself left out)."},
    {"shadow_of", rw_mod_shadow_of, METH_O,
     "The shadow of a tracked container, made on first use; None when not tracked."},
    {"on_read", RW_CFUNC(rw_mod_on_read), METH_FASTCALL, "on_read(d, key, op)"},
    {"on_write", RW_CFUNC(rw_mod_on_write), METH_FASTCALL,
     "on_write(d, key, op, keys_change)"},
    {"on_keys_read", RW_CFUNC(rw_mod_on_keys_read), METH_FASTCALL, "on_keys_read(d, op)"},
    {"on_read_all", RW_CFUNC(rw_mod_on_read_all), METH_FASTCALL, "on_read_all(d, op)"},
    {"on_clear", RW_CFUNC(rw_mod_on_clear), METH_FASTCALL, "on_clear(d, op='clear')"},
    {"after_fork_in_child", after_fork_in_child, METH_NOARGS,
     "Re-make the compiled core's own locks in a forked child."},
    {"copy_dict_in_child", copy_dict_in_child, METH_O,
     "In a forked child: a copy of a dict read without its lock (see module.c)."},
    {NULL}
};

static int initialized = 0;

static int
core_exec(PyObject *module)
{
    if (!initialized) {
        /* Once per process: a second module object (a re-import) shares every type and
         * the settings, as the runtime modules hold on to them. */
        if (PyType_Ready(&RW_SettingsType) < 0 || PyType_Ready(&RW_SoloSlotType) < 0
                || rw_shadow_ready(module) < 0) {
            return -1;
        }
        rw_settings = (RW_Settings *)PyObject_CallNoArgs((PyObject *)&RW_SettingsType);
        if (rw_settings == NULL) {
            return -1;
        }
        if (rw_tracked_ready(module) < 0 || rw_threadstate_ready(module) < 0
                || rw_sync_ready(module) < 0 || rw_locks_ready(module) < 0
                || rw_context_ready(module) < 0 || rw_object_ready(module) < 0
                || rw_globals_ready(module) < 0 || rw_sink_ready(module) < 0) {
            return -1;
        }
        initialized = 1;
    }
    else if (rw_shadow_ready(module) < 0 || rw_tracked_ready(module) < 0
             || rw_threadstate_ready(module) < 0 || rw_sync_ready(module) < 0
             || rw_locks_ready(module) < 0 || rw_context_ready(module) < 0
             || rw_object_ready(module) < 0
             || rw_globals_ready(module) < 0 || rw_sink_ready(module) < 0) {
        return -1;
    }
    PyObject *solo = PyType_GenericAlloc(&RW_SoloSlotType, 0);
    if (solo == NULL) {
        return -1;
    }
    if (PyModule_AddObject(module, "SOLO", solo) < 0) {
        Py_DECREF(solo);
        return -1;
    }
    if (PyModule_AddObjectRef(module, "Settings", (PyObject *)&RW_SettingsType) < 0
            || PyModule_AddObjectRef(module, "SETTINGS", (PyObject *)rw_settings) < 0
            || PyModule_AddIntConstant(module, "FREE_THREADED",
#ifdef Py_GIL_DISABLED
                                       1
#else
                                       0
#endif
                                       ) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, module_functions);
}

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, core_exec},
#if RW_PY312
    /* The types and settings are process-wide: one interpreter only. */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "racewatch._core",
    .m_doc = "The compiled core of racewatch: tracked containers and the happens-before engine.",
    .m_size = 0,
    .m_slots = core_slots,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
