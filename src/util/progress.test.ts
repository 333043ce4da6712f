import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Progress, formatBytes, formatDuration, parseDuration } from './progress.js';

/** A non-TTY stream that keeps what was written. */
function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { stream: w as unknown as NodeJS.WriteStream, text: () => out };
}

test('a resumed job: work done before the run counts in done/total, not in the rate or ETA', async () => {
  const s = sink();
  const p = new Progress({ label: 'sampling', total: 1000, unit: 'crystals', stream: s.stream, intervalMs: 0, initial: 900 });
  await new Promise((r) => setTimeout(r, 200));
  p.update(910); // 10 new in ~0.2 s: about 50/s, 90 left: ETA about 2 s
  const m = /sampling: 910\/1000 \(91\.0%\) ([\d.]+) crystals\/s elapsed \d+s ETA (\d+)s/.exec(s.text());
  assert.ok(m, s.text());
  const rate = Number(m[1]);
  assert.ok(rate > 10 && rate < 60, `rate ${rate} should count only the 10 new items`);
  assert.ok(Number(m[2]) >= 1 && Number(m[2]) <= 9, `ETA ${m[2]} s`);
});

test('durations parse and format', () => {
  assert.equal(parseDuration('1h30m'), 5400);
  assert.equal(parseDuration('90'), 90);
  assert.throws(() => parseDuration('soon'), /cannot parse duration/);
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(65), '1m05s');
  assert.equal(formatDuration(NaN), '?');
});

test('a plain-text log gets the final line once, and finish() still prints a new count or an extra note', () => {
  const s = sink();
  const p = new Progress({ label: 'steps', total: 3, stream: s.stream, intervalMs: 60_000 });
  p.update(1); // within the interval of the start: not printed
  p.update(3); // the total is always printed
  p.finish();
  assert.equal(s.text().split('\n').filter((l) => l.startsWith('steps: 3/3')).length, 1, s.text());
  p.finish('done');
  assert.match(s.text(), /steps: 3\/3 .* done\n$/);
  const t = sink();
  const q = new Progress({ label: 'steps', total: 5, stream: t.stream, intervalMs: 60_000 });
  q.update(1);
  q.update(2);
  q.finish(); // the stopped job's count (2) was never printed
  assert.match(t.text(), /steps: 2\/5/);
});

test('byte amounts: binary units, and a download line shows bytes, rate and ETA', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(5530785), '5.3 MiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
  const s = sink();
  const p = new Progress({ label: 'perov_5/train.csv.gz', total: 2 * 1024 * 1024, stream: s.stream, intervalMs: 0, formatAmount: formatBytes });
  p.update(1024 * 1024);
  assert.match(s.text(), /^perov_5\/train\.csv\.gz: 1\.0 MiB\/2\.0 MiB \(50\.0%\) [\d.]+ (B|KiB|MiB|GiB)\/s elapsed \d+s ETA (\d+s|\?)\n$/);
});
