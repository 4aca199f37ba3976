"""fuzz/targets and the <target>.options files: parsing, errors naming file
and line, and the list agreeing with what make and the sources say."""
import os
import re
import subprocess
import tempfile
import unittest

from refuzz import targets
from refuzz.util import read_text
from refuzz.util import ROOT, InputError, UsageError


class TargetList(unittest.TestCase):
    def test_names_profiles_comments(self):
        tl = targets.parse_targets('# the list\n\nfuzz_a  a   # a comment\n  fuzz_text -\n', 'T')
        self.assertEqual(tl, [targets.Target('fuzz_a', 'a'), targets.Target('fuzz_text', None)])
        self.assertTrue(tl[1].text)
        self.assertFalse(tl[0].text)

    def assertError(self, text, line, words):
        with self.assertRaises(InputError) as cm:
            targets.parse_targets(text, 'fuzz/targets')
        self.assertEqual(cm.exception.line, line)
        self.assertTrue(str(cm.exception).startswith('fuzz/targets:%d: ' % line) if line else True, str(cm.exception))
        self.assertIn(words, str(cm.exception))

    def test_bad_lines(self):
        self.assertError('fuzz_a a\nfuzz_b\n', 2, 'want two fields')
        self.assertError('fuzz_a a extra\n', 1, 'want two fields')
        self.assertError('fuzz-a a\n', 1, "target name 'fuzz-a'")
        self.assertError('fuzz_a a/b\n', 1, "profile 'a/b'")
        self.assertError('fuzz_a a\n# x\nfuzz_a b\n', 3, 'listed twice (first at line 1)')
        self.assertError('# only comments\n', 0, 'lists no fuzz target')

    def test_missing_file(self):
        with self.assertRaises(InputError) as cm:
            targets.load('/nonexistent/targets')
        self.assertIn('cannot read the target list', str(cm.exception))

    def test_get_and_select(self):
        with tempfile.NamedTemporaryFile('w', suffix='targets', delete=False) as f:
            f.write('fuzz_a a\nfuzz_b -\n')
        try:
            self.assertEqual(targets.get('fuzz_b', f.name).profile, None)
            self.assertEqual([t.name for t in targets.select([], f.name)], ['fuzz_a', 'fuzz_b'])
            with self.assertRaises(UsageError) as cm:
                targets.select(['fuzz_c'], f.name)
            self.assertIn('fuzz/targets lists: fuzz_a fuzz_b', str(cm.exception))
        finally:
            os.unlink(f.name)


class TheRealList(unittest.TestCase):
    """The checked-in list: one home, read the same way by every reader."""

    def test_make_reads_the_same_list(self):
        # fuzz/fuzz.mk's own awk line, run as make runs it
        mk = read_text(os.path.join(ROOT, 'fuzz', 'fuzz.mk'))
        m = re.search(r"^FUZZ_TARGETS := \$\(shell (awk .*) fuzz/targets\)$", mk, re.M)
        self.assertIsNotNone(m, 'fuzz.mk reads fuzz/targets with awk')
        awk = m.group(1).replace('$$', '$').replace('\\#', '#')
        out = subprocess.run(['sh', '-c', awk + ' fuzz/targets'], cwd=ROOT, capture_output=True, text=True).stdout
        self.assertEqual(out.split(), targets.names())

    def test_every_target_has_its_source_and_profile(self):
        for t in targets.load():
            src = os.path.join(ROOT, 'fuzz', t.name + '.c')
            self.assertTrue(os.path.exists(src), src)
            text = read_text(src)
            m = re.search(r'ra_fuzz_profile = (NULL|"([a-z_0-9]+)");', text)
            self.assertIsNotNone(m, '%s sets ra_fuzz_profile' % src)
            self.assertEqual(m.group(2), t.profile, '%s: profile as fuzz/targets says' % src)
            self.assertIn('ra_fuzz_target = "%s";' % t.name, text)

    def test_no_other_copy_of_the_list(self):
        # the list lives in fuzz/targets only: no script spells it out again
        listed = ' '.join(targets.names()[:3])
        hits = subprocess.run(['grep', '-rlF', listed, '--include=*.sh', '--include=*.py', '--include=*.mk',
                               '--include=Makefile', '--include=Dockerfile', '.'],
                              cwd=ROOT, capture_output=True, text=True).stdout.split()
        self.assertEqual([h for h in hits if not h.startswith(('./build/', './out/'))], [])

    def test_real_options_files_parse(self):
        for t in targets.load():
            flags = targets.libfuzzer_flags(t.name, os.path.join(ROOT, 'fuzz', t.name + '.options'))
            self.assertTrue(any(f.startswith('-max_len=') for f in flags), t.name)


class Options(unittest.TestCase):
    def parse(self, text):
        return targets.parse_options(text, 'fuzz/x.options')

    def test_sections_comments_values(self):
        o = self.parse('# head\n; also a comment\n[libfuzzer]\nmax_len = 1024   # inline\n'
                       'dict=x.dict\n\n[afl]\n  timeout =10 \n')
        self.assertEqual(o, {'libfuzzer': {'max_len': '1024', 'dict': 'x.dict'}, 'afl': {'timeout': '10'}})

    def test_value_keeps_inner_hash(self):
        self.assertEqual(self.parse('[s]\nk = a#b\n')['s']['k'], 'a#b')

    def assertError(self, text, line, words):
        with self.assertRaises(InputError) as cm:
            self.parse(text)
        self.assertTrue(str(cm.exception).startswith('fuzz/x.options:%d: ' % line), str(cm.exception))
        self.assertIn(words, str(cm.exception))

    def test_bad_lines(self):
        self.assertError('[libfuzzer]\nmax_len 1024\n', 2, "'max_len 1024' is neither [section] nor KEY = VALUE")
        self.assertError('max_len = 1\n', 1, 'before any [section]')
        self.assertError('[libfuzzer\nmax_len = 1\n', 1, "section header ends with ']'")
        self.assertError('[]\n', 1, 'bad section name')
        self.assertError('[s]\n = 3\n', 2, "bad key ''")
        self.assertError('[s]\nmax len = 3\n', 2, "bad key 'max len'")
        self.assertError('[s]\nk =\n', 2, 'k has no value')
        self.assertError('[s]\nk = 1\n\nk = 2\n', 4, 'k is given twice in [s] (first at line 2)')
        self.assertError('[s]\n[t]\n[s]\n', 3, '[s] appears twice (first at line 1)')

    def test_dict_beside_options_and_flags(self):
        d = tempfile.mkdtemp()
        p = os.path.join(d, 'fuzz_x.options')
        with open(p, 'w') as f:
            f.write('[libfuzzer]\nmax_len = 64\ndict = fuzz_x.dict\n[other]\nmax_len = 9\n')
        self.assertEqual(targets.libfuzzer_flags('fuzz_x', p), ['-max_len=64', '-dict=%s/fuzz_x.dict' % d])
        self.assertEqual(targets.libfuzzer_opt('fuzz_x', 'max_len', p), '64')
        self.assertIsNone(targets.libfuzzer_opt('fuzz_x', 'timeout', p))
        # no options file: no flags
        self.assertEqual(targets.libfuzzer_flags('fuzz_x', os.path.join(d, 'none.options')), [])

    def test_binary_file_is_an_error_not_a_crash(self):
        d = tempfile.mkdtemp()
        p = os.path.join(d, 'bin.options')
        with open(p, 'wb') as f:
            f.write(b'\xff\xfe[libfuzzer]\n')
        with self.assertRaises(InputError) as cm:
            targets.read_options(p)
        self.assertIn(p, str(cm.exception))


if __name__ == '__main__':
    unittest.main()
