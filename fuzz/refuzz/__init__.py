"""refuzz — the fuzzing harness's orchestration (standard library only).

Modules, each one concern:
  targets    fuzz/targets (the one list of targets and their profiles) and
             the INI-like fuzz/<target>.options files
  build      the build folders of a run (planted mutants included) and quiet
             builds through mk/build.mk
  signature  a crash input's signature: replay it, classify the failure,
             normalize the line that names it; its id
  triage     crash inputs to unique findings with text reproducers
  fuzzers    reading AFL++'s and libFuzzer's status files and logs
  state      what a campaign keeps on disk (campaign.env, state/)
  campaign   `make fuzz-campaign`: instances, status, resume
  quick      `make fuzz`: a short run of every target
  selftest   `make fuzz-selftest`: planted bugs must be found
  merge      `make corpus-merge`
  seeds      the hand-written seeds into corpus/<target>/
  speed      single-core execs/s of every target
  report     the morning report of a campaign
  util       what the others share: errors, processes, logs

Every program is started through a small script in fuzz/ (fuzz/campaign.py,
...); they run from the checkout's root.

Exit codes shared by all of them: 0 success; 1 the job's own failure (a
finding, a mutant not found, a build that fails); 64 bad usage (unknown
option or target, bad DURATION, ...); 65 bad input data (fuzz/targets, an
options file, a campaign's saved state), with FILE:LINE: and what is wrong.
"""
