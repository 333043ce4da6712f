import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueueUrl, redactQueueUrl } from './url.js';

test('queue URLs: host, port, db, AUTH user/password, TLS', () => {
  assert.deepEqual(parseQueueUrl('redis://127.0.0.1:6380/2'), { host: '127.0.0.1', port: 6380, db: 2, maxRetriesPerRequest: null });
  assert.deepEqual(parseQueueUrl('redis://localhost'), { host: 'localhost', port: 6379, db: 0, maxRetriesPerRequest: null });
  const a = parseQueueUrl('rediss://kldm:s%40cret@redis.example:6390/0');
  assert.equal(a.username, 'kldm');
  assert.equal(a.password, 's@cret');
  assert.deepEqual(a.tls, { servername: 'redis.example' });
  assert.equal(parseQueueUrl('redis://:pw@[::1]:7000').host, '::1');
  assert.equal(parseQueueUrl('redis://:pw@[::1]:7000').password, 'pw');
});

test('bad queue URLs are refused naming the problem, without echoing the password', () => {
  assert.throws(() => parseQueueUrl('http://x:1'), /unsupported scheme "http:"/);
  assert.throws(() => parseQueueUrl('redis://h:1/abc'), /database must be a number/);
  assert.throws(() => parseQueueUrl('not a url :pw@'), (e: Error) => /not a URL/.test(e.message) && !e.message.includes('pw@'));
  assert.equal(redactQueueUrl('redis://user:hunter2@h:1/0'), 'redis://user:***@h:1/0');
  assert.equal(redactQueueUrl('rediss://hunter2@h'), 'rediss://***@h');
  assert.equal(redactQueueUrl('redis://h:1'), 'redis://h:1');
});
