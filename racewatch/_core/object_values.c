/* An instance attribute's value read where the interpreter keeps it (GIL builds): the
 * object's inline values (3.11 and later) or the values of its own dict that shares its
 * class's keys (3.10), indexed as the class's shared keys say.
 *
 * A hooked class's reads cannot be specialized by the interpreter (its tp_getattro is not
 * object's), so each one took PyObject_GenericGetAttr's whole way: the type's lookup, the
 * descriptor checks, the keys' hash lookup (about 180 instructions, against about 15 for
 * a specialized read).  For the usual attribute, a plain value in the instance, this file
 * does what the specializing interpreter's LOAD_ATTR_INSTANCE_VALUE does, with the same
 * guards: the type's version tag (any change to the class, or to a base, gives it a new
 * one), the keys (the class's shared keys, which only grow) and the object's values still
 * in use (not replaced by a dict of its own), and a value that is there.  What it
 * remembers, per (type, name), is whether the name is a plain instance value (nothing of
 * that name in the class or its bases) and at which index, or a method (a plain function
 * of the class, which the object does not hide with a value of its own: the bound method
 * is what LOAD_ATTR_METHOD_WITH_VALUES would call, and its read is no access); anything
 * else, and every doubt, is PyObject_GenericGetAttr's.  Writes the same way: a plain
 * instance value that is there replaced, as STORE_ATTR_INSTANCE_VALUE does, by the
 * classes whose writes are rw_obj_setattro's own; and when the write is one the thread
 * made already in its epoch, without the rest of set_checked's way (a fifth of what
 * racewatch added to ``object_graph``'s step, on 3.12, was its four writes' way there).
 *
 * The layouts are the interpreter's internal ones (as stacks.c reads its frames): 3.11 has
 * the values' pointer before the object, 3.12 a tagged pointer there, 3.13 the values
 * after the object's header; 3.10 the dict at the type's tp_dictoffset, whose values are
 * the class's when it is a split dict with the class's keys (what 3.10's LOAD_ATTR cache
 * checks too).  On 3.10 only reads take this way: a write must give the dict a new version
 * tag (PEP 509), which only the interpreter can.  Free-threaded builds keep the generic
 * way: there a value is read under the object's lock; so do versions after 3.13, until
 * their layouts are read.
 */

/* The internal headers need Py_BUILD_CORE before Python.h (so the version comes first);
 * what they declare is only read here, and some of their inline functions draw warnings
 * that are theirs, not this file's. */
#include <patchlevel.h>
#include <pyconfig.h>
/* The versions whose layouts this file was written and tested against: a later one keeps
 * the generic way until it is checked here too. */
#if PY_VERSION_HEX >= 0x030A0000 && PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED)
#define RW_INSTANCE_VALUES 1
#if PY_VERSION_HEX >= 0x030B0000 && !defined(Py_BUILD_CORE)
#define Py_BUILD_CORE 1
#endif
#endif

#include "object.h"

#ifdef RW_INSTANCE_VALUES

#if RW_PY311
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include "internal/pycore_dict.h"
#include "internal/pycore_object.h"
#pragma GCC diagnostic pop
#else
/* 3.10 installs no header that declares a dict's keys (Objects/dict-common.h): their
 * layout, as 3.10 has it in every release.  An instance's attributes are in its own dict,
 * at the type's tp_dictoffset; the dicts of instances of a class that share its keys
 * (split dicts) hold their values in ``ma_values``, indexed as those keys' entries. */
typedef struct {
    Py_hash_t me_hash;
    PyObject *me_key;
    PyObject *me_value;
} rw_dict_entry;

struct _dictkeysobject {
    Py_ssize_t dk_refcnt;
    Py_ssize_t dk_size;
    void *dk_lookup;
    Py_ssize_t dk_usable;
    Py_ssize_t dk_nentries;
    char dk_indices[];
};

typedef struct {
    PyObject *values[1];
} PyDictValues;

/* The entries of ``keys``, after its indices (dict-common.h, DK_ENTRIES). */
static inline rw_dict_entry *
keys_entries(PyDictKeysObject *keys)
{
    Py_ssize_t size = keys->dk_size;
    size_t width = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffff ? 4 : 8;
    return (rw_dict_entry *)&keys->dk_indices[(size_t)size * width];
}
#endif

/* (type, name) pairs remembered: sets of two, so that two pairs a loop reads (an attribute
 * and a method, say) do not keep taking each other's place. */
#define VALUES_SET_BITS 7
#define VALUES_SETS (1 << VALUES_SET_BITS)

typedef struct {
    PyTypeObject *type;          /* compared by address and version tag, never followed */
    unsigned int version;        /* the type's tp_version_tag when remembered (not 0) */
    PyDictKeysObject *keys;      /* the type's shared keys then */
    Py_ssize_t nentries;         /* their number of entries then (they only grow) */
    PyObject *name;              /* a strong reference */
    Py_ssize_t index;            /* the name's place in the keys (and the values); -1: none */
    char plain;                  /* nothing of that name in the class or its bases */
    PyObject *method;            /* else the class's plain function of that name, or NULL
                                  * (borrowed: the version tag changes before it can go) */
    unsigned char name_pos;      /* the name's place in an object's memory of the epoch,
                                  * last seen (rw_epoch_name_same's hint) */
    char set_fast;               /* the type's writes are rw_obj_setattro's own
                                  * (rw_hook_writes_as_object) */
} rw_values_entry;

/* Changed with the GIL held.  ``victim``: the way of each set that the next pair takes. */
static rw_values_entry values_cache[VALUES_SETS][2];
static unsigned char victim[VALUES_SETS];

/* The values of ``obj`` (whose type has a managed dict), or NULL when it has a dict of its
 * own instead. */
static inline PyDictValues *
values_of(PyObject *obj, PyTypeObject *type, Py_ssize_t index)
{
#if RW_PY313
    if (!(type->tp_flags & Py_TPFLAGS_INLINE_VALUES)) {
        return NULL;
    }
    PyDictValues *values = _PyObject_InlineValues(obj);
    return values->valid && index < values->capacity ? values : NULL;
#elif RW_PY312
    (void)type, (void)index;
    PyDictOrValues dorv = *_PyObject_DictOrValuesPointer(obj);
    return _PyDictOrValues_IsValues(dorv) ? _PyDictOrValues_GetValues(dorv) : NULL;
#elif RW_PY311
    (void)type, (void)index;
    return *_PyObject_ValuesPointer(obj);
#else
    /* (a dict of the object's own that shares the class's keys: a split dict; the values
     * are as many as those keys can ever have entries) */
    (void)index;
    PyDictObject *dict = *(PyDictObject **)((char *)obj + type->tp_dictoffset);
    return dict != NULL && dict->ma_values != NULL
           && dict->ma_keys == ((PyHeapTypeObject *)type)->ht_cached_keys
           ? (PyDictValues *)dict->ma_values : NULL;
#endif
}

/* Where ``name`` (an exact str) is in ``keys`` (a class's shared keys), or -1: the same
 * string, else an equal one (of the same hash, which a str computes once); it compares
 * exact strs only, which cannot fail. */
static Py_ssize_t
index_in(PyDictKeysObject *keys, PyObject *name)
{
#if RW_PY311
    if (keys == NULL || keys->dk_kind != DICT_KEYS_SPLIT) {
        return -1;
    }
    PyDictUnicodeEntry *entries = DK_UNICODE_ENTRIES(keys);
#else
    if (keys == NULL) {
        return -1;   /* (a class's cached keys are always shared ones) */
    }
    rw_dict_entry *entries = keys_entries(keys);
#endif
    for (Py_ssize_t i = 0; i < keys->dk_nentries; i++) {
        PyObject *key = entries[i].me_key;
        if (key == name) {
            return i;
        }
    }
    Py_hash_t hash = PyObject_Hash(name);
    for (Py_ssize_t i = 0; i < keys->dk_nentries; i++) {
        PyObject *key = entries[i].me_key;
        if (key != NULL && PyUnicode_CheckExact(key) && PyObject_Hash(key) == hash
                && PyUnicode_Compare(key, name) == 0) {
            return i;
        }
    }
    return -1;
}

#if !RW_PY311
/* Whether ``type``'s shared keys (which the object's split dict has) still say what was
 * remembered of ``name``: that it is at ``index``, or (-1) nowhere.  3.10 replaces a
 * class's shared keys when an instance's dict takes its names in another order while no
 * other instance shares them (_PyObjectDict_SetItem), with no new version tag, and the new
 * keys may be where old ones were, as the allocator gives back a block just freed (the
 * suite of cachetools read the wrong attribute so), even with as many entries: so it is
 * checked again, the place by its key, the absence as remember() found it (a method's: the
 * object may hide it with a value of its own). */
static inline int
keys_still(PyTypeObject *type, Py_ssize_t index, PyObject *name)
{
    PyDictKeysObject *keys = ((PyHeapTypeObject *)type)->ht_cached_keys;
    if (index >= 0) {
        return index < keys->dk_nentries && keys_entries(keys)[index].me_key == name;
    }
    return index_in(keys, name) < 0;
}
#endif

/* Find out, and remember in ``e`` (the way of ``set`` that holds the pair, out of date;
 * NULL: the one whose turn it is), what ``name`` is for ``type``: the entry, or NULL when
 * nothing can be remembered.  Kept out of its callers' way (a few times per pair). */
static RW_NOINLINE rw_values_entry *
remember(PyTypeObject *type, PyObject *name, size_t set, rw_values_entry *e)
{
    if (e == NULL) {
        e = &values_cache[set][victim[set]];
        victim[set] ^= 1;
    }
    /* The type's lookup first: it gives the type a version tag if it has none. */
#if RW_PY311
    int managed = (type->tp_flags & Py_TPFLAGS_MANAGED_DICT) && PyUnicode_CheckExact(name);
#else
    int managed = type->tp_dictoffset > 0 && (type->tp_flags & Py_TPFLAGS_HEAPTYPE)
                  && PyUnicode_CheckExact(name);
#endif
    PyObject *descr = managed ? _PyType_Lookup(type, name) : NULL;
    unsigned int version = type->tp_version_tag;
    if (version == 0) {
        e->type = NULL;   /* no version to guard with: nothing is remembered */
        return NULL;
    }
    PyDictKeysObject *keys = ((PyHeapTypeObject *)type)->ht_cached_keys;
    e->type = type;
    e->version = version;
    e->keys = keys;
    e->nentries = keys != NULL ? keys->dk_nentries : 0;
    Py_XSETREF(e->name, Py_NewRef(name));
    e->index = managed ? index_in(keys, name) : -1;
    e->plain = managed && descr == NULL;
    e->method = descr != NULL && Py_IS_TYPE(descr, &PyFunction_Type) ? descr : NULL;
    e->name_pos = 0;
    e->set_fast = rw_hook_writes_as_object(rw_hook_find(type));
    return e;
}

/* The set of (type, name): the product's top bits, the best mixed. */
static inline size_t
set_of(PyTypeObject *type, PyObject *name)
{
    uintptr_t x = ((uintptr_t)type >> 4) ^ ((uintptr_t)name << 3);
    return (size_t)(x * 0x9E3779B97F4A7C15ull) >> (sizeof(size_t) * CHAR_BIT - VALUES_SET_BITS);
}

/* The way of ``set`` that holds (type, name), or NULL. */
static inline rw_values_entry *
way_of(size_t set, PyTypeObject *type, PyObject *name)
{
    rw_values_entry *e = &values_cache[set][0];
    if (e->type == type && e->name == name) {
        return e;
    }
    e++;
    return e->type == type && e->name == name ? e : NULL;
}

/* Whether ``e``, remembered for ``type``, still says what its name is. */
static inline int
up_to_date(const rw_values_entry *e, PyTypeObject *type)
{
    PyDictKeysObject *keys = ((PyHeapTypeObject *)type)->ht_cached_keys;
    /* (a name not in the keys may have come since: another instance set it) */
    return e->version == type->tp_version_tag && e->keys == keys
           && (e->index >= 0 || keys == NULL || keys->dk_nentries == e->nentries);
}

/* What ``name`` is for instances of ``type`` (up to date), or NULL. */
static inline const rw_values_entry *
entry_of(PyTypeObject *type, PyObject *name)
{
    size_t set = set_of(type, name);
    rw_values_entry *e = way_of(set, type, name);
    return e != NULL && up_to_date(e, type) ? e : remember(type, name, set, e);
}

/* The values of ``obj`` where a write of ``e``'s name (``e`` up to date, for the type of
 * ``obj``) replaces a plain instance value that is there, or NULL: a new attribute's
 * place in the values' order is the generic way's to give. */
static inline PyDictValues *
replaceable(const rw_values_entry *e, PyObject *obj)
{
#if RW_PY311
    if (!e->plain || e->index < 0) {
        return NULL;
    }
    PyDictValues *values = values_of(obj, Py_TYPE(obj), e->index);
#if RW_PY313
    /* a dict of its own shares the values; a change must go through it (its watchers) */
    if (values != NULL && _PyObject_GetManagedDict(obj) != NULL) {
        return NULL;
    }
#endif
    return values != NULL && values->values[e->index] != NULL ? values : NULL;
#else
    /* 3.10: a change to a dict gives it a new version (PEP 509), from a counter of the
     * interpreter's own that no extension can reach: writes take the generic way */
    (void)e, (void)obj;
    return NULL;
#endif
}

/* What ``e`` (up to date, for the type of ``obj``) finds on ``obj``: the plain value of
 * the instance (borrowed), or, with *method set, the class's function to bind: what the
 * function's __get__ gives, as LOAD_ATTR_METHOD_WITH_VALUES finds it (no instance value
 * of that name, the type's version tag).  NULL when the generic way is to tell. */
static inline PyObject *
found_on(const rw_values_entry *e, PyObject *obj, int *method)
{
    *method = 0;
    if (!e->plain && e->method == NULL) {
        return NULL;
    }
    PyDictValues *values = values_of(obj, Py_TYPE(obj), e->index);
    if (values == NULL) {
        return NULL;   /* a dict of its own holds its attributes */
    }
#if !RW_PY311
    if (!keys_still(Py_TYPE(obj), e->index, e->name)) {
        return NULL;
    }
#endif
    PyObject *own = e->index >= 0 ? values->values[e->index] : NULL;
    if (e->plain || own != NULL) {
        return e->plain ? own : NULL;   /* (a value of its own hides the method) */
    }
    *method = 1;
    return e->method;
}

PyObject *
rw_instance_value(PyObject *obj, PyObject *name, int *method)
{
    const rw_values_entry *e = entry_of(Py_TYPE(obj), name);
    if (e == NULL) {
        *method = 0;
        return NULL;
    }
    PyObject *found = found_on(e, obj, method);
    return *method ? PyMethod_New(found, obj) : Py_XNewRef(found);
}

/* Put ``value`` in place of the value at ``index`` of ``values`` (one that is there). */
static inline void
replace_at(PyDictValues *values, Py_ssize_t index, PyObject *value)
{
    PyObject *old = values->values[index];
    values->values[index] = Py_NewRef(value);
    Py_DECREF(old);
}

int
rw_instance_replace(PyObject *obj, PyObject *name, PyObject *value)
{
    const rw_values_entry *e = entry_of(Py_TYPE(obj), name);
    PyDictValues *values = e != NULL ? replaceable(e, obj) : NULL;
    if (values == NULL) {
        return 0;
    }
    replace_at(values, e->index, value);
    return 1;
}

void
rw_instance_values_forget(void)
{
    for (size_t set = 0; set < VALUES_SETS; set++) {
        for (int way = 0; way < 2; way++) {
            rw_values_entry *e = &values_cache[set][way];
            e->type = NULL;
            Py_CLEAR(e->name);
        }
    }
}

/* The fast way of a write by a hooked class whose writes are object's: a plain value of
 * the instance that is there replaced, when the write is unwatched or one the thread made
 * already in its epoch (rw_access_done), as STORE_ATTR_INSTANCE_VALUE replaces it; anything
 * else takes rw_obj_setattro_full.  Like the read's fast way, it calls nothing but on its
 * way out (the old value's release, the whole way), so that it saves no registers for the
 * most common write: when rw_obj_setattro called a function of this file for it, the
 * registers the whole way wants were saved for every write. */
int
rw_obj_setattro(PyObject *obj, PyObject *name, PyObject *value)
{
    PyTypeObject *type = Py_TYPE(obj);
    rw_values_entry *e = value != NULL ? way_of(set_of(type, name), type, name) : NULL;
    PyDictValues *values = e != NULL && e->set_fast && up_to_date(e, type)
                           ? replaceable(e, obj) : NULL;
    if (values == NULL || !rw_access_done(obj, name, 1, &e->name_pos)) {
        return rw_obj_setattro_full(obj, name, value);
    }
    replace_at(values, e->index, value);
    return 0;
}

/* The fast way of a read by a hooked class whose own tp_getattro was object's: a plain
 * value of the instance, or a method, where rw_instance_value would find it, found and
 * checked without calling anything but on the way out (PyMethod_New for a method,
 * rw_obj_read_checked for a read that is to be checked), so that this function saves no
 * registers: most reads are of a pair remembered already, made already by the thread in
 * its epoch, and what racewatch added to those was mostly calls.  Anything else takes
 * rw_obj_getattro_full, which finds out and remembers. */
PyObject *
rw_obj_getattro_generic(PyObject *obj, PyObject *name)
{
    PyTypeObject *type = Py_TYPE(obj);
    rw_values_entry *e = way_of(set_of(type, name), type, name);
    if (e != NULL && up_to_date(e, type)) {
        int method;
        PyObject *found = found_on(e, obj, &method);
        if (method) {
            return PyMethod_New(found, obj);   /* no access (rw_instance_value) */
        }
        if (found != NULL) {
            return rw_access_done(obj, name, 0, &e->name_pos)
                   ? Py_NewRef(found) : rw_obj_read_checked(obj, name, Py_NewRef(found));
        }
    }
    return rw_obj_getattro_full(obj, name);
}

#else

void
rw_instance_values_forget(void)
{
}

PyObject *
rw_obj_getattro_generic(PyObject *obj, PyObject *name)
{
    return rw_obj_getattro_full(obj, name);
}

int
rw_obj_setattro(PyObject *obj, PyObject *name, PyObject *value)
{
    return rw_obj_setattro_full(obj, name, value);
}

PyObject *
rw_instance_value(PyObject *Py_UNUSED(obj), PyObject *Py_UNUSED(name), int *method)
{
    *method = 0;
    return NULL;
}

int
rw_instance_replace(PyObject *Py_UNUSED(obj), PyObject *Py_UNUSED(name),
                    PyObject *Py_UNUSED(value))
{
    return 0;
}

#endif
