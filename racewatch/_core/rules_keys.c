/* The FastTrack rules of the keys location (which keys a dict holds: its length, iteration,
 * the inserts and deletes that change it) and of a read of every key at once (shadow.py's
 * _check_keys_write, _update_keys, on_keys_read, on_read_all); rules.c has those of one
 * key's location, and uses the keys location's through rw_write_keys and rw_update_keys. */

#include "engine.h"

/* The checks of a write or an update of the keys location: against its last write and its
 * reads (``current_key``: the key the access inserts or deletes, or NULL). */
static int
check_keys_write(RW_Shadow *sh, PyObject *current_key, PyObject *vc, rw_batch *b)
{
    RW_Access *w = sh->keys_w;
    if (w != NULL && !covered(w, vc)
            && rw_batch_add(b, w, NULL, 1, sh->keys_wkey, current_key) < 0) {
        return -1;
    }
    return rw_rs_unordered(&sh->keys_r, vc, b, NULL, 1, NULL, current_key);
}

/* The conflicts a write of the keys location found since ``from`` get this thread's own read
 * of the keys in its epoch (_check_keys_write's ``prior``). */
static void
keys_prior(RW_Shadow *sh, RW_Access *cur, rw_batch *b, Py_ssize_t from)
{
    rw_batch_prior(b, from, rs_own_read(&sh->keys_r, cur));
}

/* The updates of the keys location that are not ordered before ``cur``. */
static int
unordered_updates(RW_Shadow *sh, PyObject *current_key, PyObject *vc, rw_batch *b)
{
    for (Py_ssize_t i = 0; i < sh->keys_u.n; i++) {
        rw_slot_entry *e = &sh->keys_u.items[i];
        if (!covered(e->rec, vc)
                && rw_batch_add(b, e->rec, NULL, 1, e->key, current_key) < 0) {
            return -1;
        }
    }
    return 0;
}

/* clear() (and, with report_key_order, an insert or delete): a write of the keys location. */
int
rw_write_keys(RW_Shadow *sh, PyObject *key, RW_Access *cur, PyObject *vc, rw_batch *b)
{
    Py_ssize_t first = b->n;
    if (check_keys_write(sh, key, vc, b) < 0 || unordered_updates(sh, key, vc, b) < 0) {
        return -1;
    }
    keys_prior(sh, cur, b, first);
    Py_XSETREF(sh->keys_w, (RW_Access *)Py_NewRef(cur));
    rw_rs_clear(&sh->keys_r);
    rw_slotmap_clear(&sh->keys_u);
    PyObject *old = sh->keys_wkey;
    sh->keys_wkey = Py_NewRef(key != NULL ? key : Py_None);
    return old != NULL ? rw_batch_trash(b, old) : 0;
}

/* An insert or delete of ``key``: an update of the keys location, which commutes with the
 * other updates (shadow._update_keys says why the reads and updates are kept). */
int
rw_update_keys(RW_Shadow *sh, PyObject *key, RW_Access *cur, PyObject *vc, rw_batch *b)
{
    if (rw_settings->report_key_order) {
        return rw_write_keys(sh, key, cur, vc, b);
    }
    Py_ssize_t first = b->n;
    if (check_keys_write(sh, key, vc, b) < 0) {
        return -1;
    }
    keys_prior(sh, cur, b, first);
    rw_slotmap_drop_covered(&sh->keys_u, vc, cur->slot, b);
    return rw_slotmap_set(&sh->keys_u, cur, key, b);
}

static int
read_keys(RW_Shadow *sh, RW_Access *cur, PyObject *vc, rw_batch *b)
{
    RW_Access *w = sh->keys_w;
    if (w != NULL && !covered(w, vc) && rw_batch_add(b, w, NULL, 1, sh->keys_wkey, NULL) < 0) {
        return -1;
    }
    if (unordered_updates(sh, NULL, vc, b) < 0) {
        return -1;
    }
    return rw_rs_add(&sh->keys_r, cur, vc);
}

/* A conflict for every key whose last write is not ordered before the thread whose clock
 * is ``vc``: what a read of every key does once the write summary says there is one. */
static int
unordered_writes(RW_Shadow *sh, PyObject *vc, rw_batch *b)
{
    int rc = 0;
    PyObject *locs = Py_NewRef(sh->locs);
    Py_BEGIN_CRITICAL_SECTION(locs);
    Py_ssize_t pos = 0;
    PyObject *key, *v;
    while (rc == 0 && PyDict_Next(locs, &pos, &key, &v)) {
        RW_Access *w = Py_IS_TYPE(v, &RW_AccessType) ? (RW_Access *)v
                       : as_loc(v) != NULL ? ((RW_Loc *)v)->w : NULL;
        if (w != NULL && !covered(w, vc)) {
            rc = rw_batch_add(b, w, key, 0, NULL, NULL);
        }
    }
    Py_END_CRITICAL_SECTION();
    Py_DECREF(locs);
    return rc;
}

/* A read of the set of keys (``all`` 0: len, iter, keys()...) or of the set of keys and
 * of every key (``all`` 1: items(), ==, repr...). */
static int
keys_or_all_read(RW_ThreadState *ts, RW_Shadow *sh, PyObject *op, int all)
{
    int same;
    RW_FT_BEGIN(sh);
    same = all ? rs_same_epoch(&sh->allr, ts) && rs_same_epoch(&sh->keys_r, ts)
               : rs_same_epoch(&sh->keys_r, ts) || same_epoch(sh->keys_w, ts);
    RW_FT_END();
    if (same) {
        return 0;
    }
    rw_slow s;
    if (rw_slow_begin(&s, ts, op, 0) < 0) {
        return -1;
    }
    int rc;
    PyObject *vc = ts->vc;
    Py_BEGIN_CRITICAL_SECTION(sh);
    rc = read_keys(sh, s.cur, vc, &s.b);
    for (Py_ssize_t i = 0; all && rc == 0 && i < sh->wsum.n; i++) {
        if (!covered(sh->wsum.items[i].rec, vc)) {
            rc = unordered_writes(sh, vc, &s.b);
            break;
        }
    }
    if (all && rc == 0) {
        rc = rw_rs_add(&sh->allr, s.cur, vc);
    }
    Py_END_CRITICAL_SECTION();
    return rw_slow_end(&s, ts, sh, rc);
}

int
rw_on_keys_read(RW_ThreadState *ts, RW_Shadow *sh, PyObject *op)
{
    return keys_or_all_read(ts, sh, op, 0);
}

int
rw_on_read_all(RW_ThreadState *ts, RW_Shadow *sh, PyObject *op)
{
    return keys_or_all_read(ts, sh, op, 1);
}
