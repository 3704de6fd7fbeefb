"""The blackout probe: the pure gap analysis, the socket loop against a
local echo that falls silent, and the lab report's blackout table."""

import socket
import threading
import time
import types

import testtools

from nova.bench import blackout_probe as probe
from nova.bench import lab_matrix
from nova.bench import labreport


def steady(n, interval=0.01, rtt=0.002, silent=()):
    sent = [(i, i * interval) for i in range(n)]
    answers = [(i, i * interval + rtt) for i in range(n) if i not in silent]
    return sent, answers


class BlackoutTestCase(testtools.TestCase):

    def test_longest_gap_inside_the_window(self):
        sent, answers = steady(500, silent=range(200, 230))
        seen = probe.blackout(sent, answers, window=(1.5, 3.0))
        # Answers 199 (1.992) and 230 (2.302) frame the gap.
        self.assertAlmostEqual(0.31, seen.blackout_s, places=6)
        self.assertEqual((1.992, 2.302), (round(seen.gap_start, 3),
                                          round(seen.gap_end, 3)))
        self.assertEqual(30, seen.lost_in_gap)
        self.assertEqual(0.01, seen.resolution_s)
        self.assertAlmostEqual(0.01, seen.baseline_gap_s, places=6)
        self.assertTrue(seen.answering_after)
        self.assertEqual((500, 470), (seen.sent, seen.answered))

    def test_gap_outside_the_window_does_not_count(self):
        sent, answers = steady(500, silent=range(200, 230))
        seen = probe.blackout(sent, answers, window=(3.5, 4.0))
        self.assertAlmostEqual(0.01, seen.blackout_s, places=6)
        # ... but it is the jitter before the window.
        self.assertAlmostEqual(0.31, seen.baseline_gap_s, places=6)

    def test_gap_that_straddles_the_window_counts_whole(self):
        sent, answers = steady(500, silent=range(200, 230))
        seen = probe.blackout(sent, answers, window=(2.1, 2.2))
        self.assertAlmostEqual(0.31, seen.blackout_s, places=6)

    def test_guest_that_never_answers_again(self):
        sent, answers = steady(500, silent=range(300, 500))
        seen = probe.blackout(sent, answers, window=(2.5, 4.0))
        self.assertFalse(seen.answering_after)
        # Up to the last request: at least this long.
        self.assertAlmostEqual(4.99 - 2.992, seen.blackout_s, places=6)

    def test_whole_record(self):
        sent, answers = steady(500, silent=range(200, 230))
        seen = probe.blackout(sent, answers)
        self.assertAlmostEqual(0.31, seen.blackout_s, places=6)
        self.assertTrue(seen.answering_after)
        sent, answers = steady(500, silent=range(300, 500))
        self.assertFalse(probe.blackout(sent, answers).answering_after)

    def test_no_answer_at_all(self):
        sent, _answers = steady(50)
        seen = probe.blackout(sent, [], window=(0.1, 0.2))
        self.assertIsNone(seen.blackout_s)
        self.assertIn('no answer', seen.summary())

    def test_duplicates_and_strangers_ignored(self):
        sent, answers = steady(100)
        answers = answers + [(5, 0.9), (1000, 0.5)]
        seen = probe.blackout(sent, answers)
        self.assertEqual(100, seen.answered)
        self.assertAlmostEqual(0.01, seen.blackout_s, places=6)


class _SilentEcho(object):
    """A UDP echo on loopback that can be told to fall silent."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(0.05)
        self.address = self.sock.getsockname()
        self.silent_until = 0.0
        self.done = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.done:
            try:
                data, peer = self.sock.recvfrom(128)
            except socket.timeout:
                continue
            if time.monotonic() >= self.silent_until:
                self.sock.sendto(data, peer)

    def close(self):
        self.done = True
        self.thread.join()
        self.sock.close()


class RecordTestCase(testtools.TestCase):

    def test_a_silence_is_measured(self):
        echo = _SilentEcho()
        self.addCleanup(echo.close)
        started = time.monotonic()

        def silence():
            time.sleep(0.3)
            echo.silent_until = time.monotonic() + 0.25
        threading.Thread(target=silence, daemon=True).start()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sent, answers = probe.record(sock, echo.address, duration=0.9)
        seen = probe.blackout(sent, answers,
                              window=(started + 0.25, started + 0.7))
        self.assertGreater(len(sent), 60)
        # 250 ms of silence, seen to within the interval (and a loaded
        # test machine's scheduling).
        self.assertGreaterEqual(seen.blackout_s, 0.24)
        self.assertLess(seen.blackout_s, 0.40)
        self.assertTrue(seen.answering_after)

    def test_echo_once(self):
        echo = _SilentEcho()
        self.addCleanup(echo.close)
        self.assertTrue(probe.echo_once(echo.address))
        echo.silent_until = time.monotonic() + 10
        self.assertFalse(probe.echo_once(echo.address, timeout=0.05))


class BlackoutTableTestCase(testtools.TestCase):

    def run_of(self, lab_s, model_s):
        lab = types.SimpleNamespace(outcome='completed', qemu_downtime_ms=40,
                                    guest_stop_s=0.04)
        model = types.SimpleNamespace(blackout_s=model_s)
        return labreport.LabRun(
            lab=lab, model=model, lab_figures={}, model_figures={},
            blackout_s=lab_s, blackout_resolution_s=0.01,
            blackout_baseline_s=0.02)

    def test_row_compares_with_the_model_within_50_ms(self):
        run = self.run_of(0.120, 0.090)
        run.lab.strategy, run.lab.workload = 'post-copy', 'w'
        row = labreport.blackout_row(run)
        self.assertEqual(['post-copy', 'w', 'completed', 40, 40,
                          '120 +/- 10', 20, 90, 30, 'yes'], row)
        run = self.run_of(0.200, 0.090)
        run.lab.strategy, run.lab.workload = 'post-copy', 'w'
        self.assertEqual('no', labreport.blackout_row(run)[-1])

    def test_no_table_without_probe(self):
        run = self.run_of(None, 0.09)
        self.assertEqual('', labreport.blackout_markdown([run]))

    def test_blackout_pairs(self):
        names = [(s.name, spec.name) for s, spec in
                 lab_matrix.blackout_pairs()]
        self.assertEqual(list(lab_matrix.BLACKOUT_PAIRS), names)
