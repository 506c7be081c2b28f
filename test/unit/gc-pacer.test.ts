import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { minorCollector, minorGcPacer } from '../../src/gc-pacer.js';

describe('gc pacer', () => {
  it('collects once per `everyBytes` reported, counting from the last collection', () => {
    let collections = 0;
    const pace = minorGcPacer(100, () => collections++);
    pace(60);
    assert.equal(collections, 0);
    pace(39);
    assert.equal(collections, 0, '99 bytes: not yet');
    pace(1);
    assert.equal(collections, 1, '100 bytes: one collection');
    pace(99);
    assert.equal(collections, 1, 'the count starts over after a collection');
    pace(250);
    assert.equal(collections, 2, 'one large report is one collection, not several');
    pace(100);
    assert.equal(collections, 3);
  });

  it('refuses a pace that would collect on every byte or never', () => {
    for (const bad of [0, -1, Number.NaN]) assert.throws(() => minorGcPacer(bad, () => undefined), RangeError);
  });

  it('without a collector it only counts', () => {
    const pace = minorGcPacer(10, null);
    pace(1000);
  });

  it("runs V8's young-generation collection: the new space empties", () => {
    const collect = minorCollector();
    assert.ok(collect, 'node 20 offers gc({ type: "minor" }) once --expose-gc is set');
    assert.equal(minorCollector(), collect, 'made once');
    const newSpaceUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;
    // Garbage that lives in the young generation until something collects it.
    let junk: Array<{ i: number; s: string }> | null = [];
    for (let i = 0; i < 4000; i++) junk.push({ i, s: `chunk ${i}` });
    assert.equal(junk.length, 4000);
    junk = null;
    const before = newSpaceUsed();
    collect();
    const after = newSpaceUsed();
    assert.ok(before > 100 * 1024, `new space holds ${before} bytes of garbage`);
    assert.ok(after < before / 2, `a minor collection frees it: ${before} -> ${after} bytes`);
  });
});
