#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""config-bisect's search, on a model of Kconfig and of the counts: no
kernel is built. Forty options; some cost instructions per page, one
saves some, one costs only when an option it depends on is set, one
through an option it selects.
The search must name exactly those beyond the threshold, with their
exact costs, in fewer builds than trying each option. KTAP."""

import argparse
import importlib.machinery
import importlib.util
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
PATH = os.path.join(HERE, '..', 'config-bisect')

loader = importlib.machinery.SourceFileLoader('config_bisect', PATH)
spec = importlib.util.spec_from_loader('config_bisect', loader)
cb = importlib.util.module_from_spec(spec)
loader.exec_module(cb)

TMP = tempfile.TemporaryDirectory()
OPTS = ['CONFIG_O%d' % i for i in range(1, 41)]
POINT = 'pup_fast 4k 4194304 512'
# Option: (pin, release, function) instructions per page when it is set.
COST = {
    'CONFIG_O3': (13.0, 0.0, 'gup_fast_fallback'),
    'CONFIG_O6': (5.0, 0.0, '__rcu_read_lock'),
    'CONFIG_O12': (7.0, 0.0, 'gup_fast_fallback'),
    'CONFIG_O20': (0.4, 0.0, 'gup_fast_fallback'),
    'CONFIG_O25': (-6.0, 0.0, 'record_subpages'),
    'CONFIG_O33': (4.0, 2.0, 'mod_node_page_state'),
}
DEPENDS = {'CONFIG_O12': 'CONFIG_O30'}	# O12 only with O30
# What changes the counted functions' code: what costs, and O7, which
# only moves things (a struct's layout, say).
CODE = set(COST) | {'CONFIG_O7'}
SELECTS = {'CONFIG_O5': 'CONFIG_O6'}	# O5 selects O6, which has no prompt


class Model(cb.Bisect):
    def __init__(self, threshold=1.5, max_builds=None, cost=None,
                 screen=False):
        self.args = argparse.Namespace(threshold=threshold,
                                       max_builds=max_builds, screen=screen,
                                       deps=['mm/gup.o'])
        self.out = tempfile.mkdtemp(dir=TMP.name)
        self.log = open(os.devnull, 'w')
        self.builds = 0
        self.split_failed = set()
        self.cost = COST if cost is None else cost
        self.said = []
        self.good = {o: 'n' for o in OPTS}
        self.bad = {o: 'y' for o in OPTS}
        self.diff_order = list(OPTS)
        self.base = self.measure(self.good, 'GOOD')
        self.builds = 0

    def say(self, msg):
        self.said.append(msg)

    def olddefconfig(self, opts):
        got = dict(opts)
        for opt, sel in SELECTS.items():
            got[sel] = 'y' if got.get(opt) == 'y' else 'n'
        for opt, dep in DEPENDS.items():
            if got.get(dep) != 'y':
                got[opt] = 'n'
        return got

    def measure(self, config, label):
        if self.args.max_builds is not None and \
           self.builds >= self.args.max_builds:
            return 'budget'
        self.builds += 1
        pin, unpin = 197.0, 99.0
        fns = {'pin': {}, 'unpin': {}}
        for opt, (p, u, fn) in self.cost.items():
            if config.get(opt) == 'y':
                pin += p
                unpin += u
                fns['pin'][fn] = fns['pin'].get(fn, 0.0) + p
                fns['unpin'][fn] = fns['unpin'].get(fn, 0.0) + u
        return {POINT + ' pin': {'total': pin, 'functions': fns['pin']},
                POINT + ' unpin': {'total': unpin,
                                   'functions': fns['unpin']}}

    def code(self, config, functions):
        return {'f': sorted(o for o in CODE if config.get(o) == 'y')}

    def search_all(self):
        config, changed = self.apply(self.good, self.diff_order)
        self.whole = [n for n in self.diff_order if n in changed]
        self.whole_counts = self.measure(config, 'whole')
        self.whole_effect = self.effect(self.whole_counts)
        if self.args.screen:
            self.whole, self.whole_counts = self.screened()
            self.whole_effect = self.effect(self.whole_counts)
        return self.search(self.whole, self.whole_effect)

    def counted_functions(self):
        return {'f'}


results = []


def check(name, ok, why=''):
    results.append(ok)
    print('%s %d %s' % ('ok' if ok else 'not ok', len(results), name))
    if not ok and why:
        for line in str(why).splitlines():
            print('# ' + line)


def main():
    print('TAP version 13')
    print('1..10')

    m = Model()
    found = m.search_all()
    named = {tuple(names): (round(e[POINT + ' pin'], 4),
                            round(e[POINT + ' unpin'], 4))
             for names, e in found}
    want = {('CONFIG_O3',): (13.0, 0.0), ('CONFIG_O12',): (7.0, 0.0),
            ('CONFIG_O5',): (5.0, 0.0), ('CONFIG_O33',): (4.0, 2.0),
            ('CONFIG_O25',): (-6.0, 0.0)}
    check('names the options beyond the threshold, with their costs',
          named == want, '%s\n%s' % (named, '\n'.join(m.said)))
    check('largest first', [n for n, _ in found][0] == ['CONFIG_O3'],
          found)
    check('fewer builds than one per option (%d)' % m.builds,
          m.builds < len(OPTS), m.said)
    check('an option another selects is named with it',
          any('CONFIG_O5=y [+ CONFIG_O6=y selected]' in s for s in m.said),
          '\n'.join(m.said))
    check('an option that needs another of the set is counted against '
          'the whole set',
          any(s.startswith('option: CONFIG_O12=y') and 'against the whole'
              in s for s in m.said), '\n'.join(m.said))

    m = Model(screen=True)
    found = m.search_all()
    kept = [s for s in m.said if s.startswith('screen: ') and 'change' in s]
    # O6 goes: O5 selects it.
    check('--screen keeps what changes the code and what that needs',
          m.whole == ['CONFIG_O3', 'CONFIG_O5', 'CONFIG_O7',
                      'CONFIG_O12', 'CONFIG_O20', 'CONFIG_O25',
                      'CONFIG_O30', 'CONFIG_O33'], '%s\n%s' % (m.whole, kept))
    check('--screen: the screened set costs what the whole set does',
          m.whole_effect == m.effect(m.measure(
              m.apply(m.good, m.diff_order)[0], 'whole')), m.said)
    check('--screen: the same options named',
          {tuple(n): e[POINT + ' pin'] for n, e in found} ==
          {('CONFIG_O3',): 13.0, ('CONFIG_O12',): 7.0, ('CONFIG_O5',): 5.0,
           ('CONFIG_O33',): 4.0, ('CONFIG_O25',): -6.0}, '\n'.join(m.said))

    m = Model(cost={'CONFIG_O20': (0.4, 0.0, 'x')})
    check('nothing beyond the threshold: none named',
          m.search_all() == [], m.said)

    m = Model(max_builds=4)
    m.search_all()
    check('a spent build budget leaves sets unsearched, and says so',
          any(s.startswith('unsearched (build budget spent)')
              for s in m.said), '\n'.join(m.said))

    npass = sum(results)
    print('# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0'
          % (npass, len(results) - npass))
    return 0 if npass == len(results) else 1


if __name__ == '__main__':
    sys.exit(main())
