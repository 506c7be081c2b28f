import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Params, paginate, nameOrder } from '../../src/api/iam/params.js';
import { encodePolicy, isoSeconds, queryError, queryResponse, requestParams, IAM_NS, STS_NS } from '../../src/api/iam/xml.js';
import { IamError } from '../../src/iam/errors.js';
import { parseIamArn } from '../../src/iam/arns.js';
import { accountOfAccessKeyId, newAccessKeyId } from '../../src/iam/ids.js';
import type { ServiceCall } from '../../src/api/service/call.js';

function params(o: Record<string, string>): Params {
  return new Params(new Map(Object.entries(o)));
}

function validationMessage(p: Params): string {
  try {
    p.done();
  } catch (e) {
    assert.ok(e instanceof IamError);
    assert.equal(e.code, 'ValidationError');
    assert.equal(e.status, 400);
    return e.message;
  }
  assert.fail('expected a ValidationError');
}

describe('IAM query parameters', () => {
  it("reports every violation in AWS's wording, in order", () => {
    const p = params({ RoleName: 'bad name', Path: 'nope', MaxSessionDuration: '60' });
    p.required('RoleName', { min: 1, max: 64, pattern: '[\\w+=,.@-]+' });
    p.required('AssumeRolePolicyDocument', { min: 1 });
    p.string('Path', { min: 1, max: 512, pattern: '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)' });
    p.int('MaxSessionDuration', { min: 3600, max: 43200 });
    assert.equal(
      validationMessage(p),
      "4 validation errors detected: Value 'bad name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; " +
        "Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null; " +
        "Value 'nope' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F); " +
        "Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600",
    );
  });

  it('checks lengths before patterns, and enums', () => {
    const p = params({ UserName: 'x'.repeat(65), Status: 'Gone' });
    p.required('UserName', { min: 1, max: 64, pattern: '[\\w+=,.@-]+' });
    p.enumValue('Status', ['Active', 'Inactive', 'Expired'] as const, true);
    assert.equal(
      validationMessage(p),
      `2 validation errors detected: Value '${'x'.repeat(65)}' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64; ` +
        "Value 'Gone' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]",
    );
  });

  it('reads tag lists and string lists by member index', () => {
    const p = params({
      'Tags.member.2.Key': 'b',
      'Tags.member.2.Value': '2',
      'Tags.member.1.Key': 'a',
      'Tags.member.1.Value': '',
      'TagKeys.member.1': 'k1',
      'TagKeys.member.2': 'k2',
    });
    assert.deepEqual(p.tags(), [
      { key: 'a', value: '' },
      { key: 'b', value: '2' },
    ]);
    assert.deepEqual(p.list('TagKeys', { min: 1, max: 128 }), ['k1', 'k2']);
    assert.equal(p.tags('Nothing'), undefined);
    p.done();
    const bad = params({ 'Tags.member.1.Key': 'a' });
    bad.tags();
    assert.match(validationMessage(bad), /^1 validation error detected: Value null at 'tags.1.member.value'/);
  });

  it('takes parameters from the query string and the form body', () => {
    const call = {
      query: new URLSearchParams('Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fq%2F'),
      body: Buffer.from('PathPrefix=%2Fbody%2F&MaxItems=5&Note=a+b'),
      req: { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } },
    } as unknown as ServiceCall;
    const v = requestParams(call);
    assert.equal(v.get('Action'), 'ListUsers');
    assert.equal(v.get('PathPrefix'), '/body/');
    assert.equal(v.get('MaxItems'), '5');
    assert.equal(v.get('Note'), 'a b');
  });
});

describe('IAM pagination', () => {
  const items = ['b', 'A', 'c', 'D', 'e'].map((name) => ({ name })).sort((x, y) => (nameOrder(x) < nameOrder(y) ? -1 : 1));

  it('pages by marker, case-insensitively ordered, until the end', () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = paginate(items, nameOrder, marker === undefined ? { maxItems: 2 } : { marker, maxItems: 2 });
      seen.push(...page.items.map((x) => x.name));
      if (!page.isTruncated) {
        assert.equal(page.marker, undefined);
        break;
      }
      marker = page.marker!;
    }
    assert.deepEqual(seen, ['A', 'b', 'c', 'D', 'e']);
  });

  it('continues after a marker whose item was deleted', () => {
    const first = paginate(items, nameOrder, { maxItems: 2 });
    const rest = paginate(items.filter((x) => x.name !== 'b'), nameOrder, { marker: first.marker!, maxItems: 100 });
    assert.deepEqual(rest.items.map((x) => x.name), ['c', 'D', 'e']);
  });
});

describe('IAM query protocol wire', () => {
  it('wraps results and errors as AWS does', () => {
    const ok = queryResponse(IAM_NS, 'GetRole', 'req-1', '<Role><RoleName>R</RoleName></Role>');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'text/xml');
    assert.equal(
      ok.body,
      '<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><RoleName>R</RoleName></Role></GetRoleResult>' +
        '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetRoleResponse>',
    );
    const empty = queryResponse(STS_NS, 'DeleteRole', 'r');
    assert.doesNotMatch(empty.body, /Result/);
    const err = queryError(IAM_NS, new IamError('NoSuchEntity', 404, 'The role with name <x> cannot be found.'), 'req-2');
    assert.equal(err.status, 404);
    assert.equal(
      err.body,
      '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>' +
        '<Message>The role with name &lt;x&gt; cannot be found.</Message></Error><RequestId>req-2</RequestId></ErrorResponse>',
    );
  });

  it('URL-encodes policy documents so that decoding gives back the exact text', () => {
    const text = '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::a+b/(c)*!\'~"}]\n}';
    const encoded = encodePolicy(text);
    assert.match(encoded, /^[A-Za-z0-9%._~-]+$/);
    assert.equal(decodeURIComponent(encoded), text);
  });

  it('writes timestamps to the second', () => {
    assert.equal(isoSeconds(Date.parse('2025-03-04T05:06:07.890Z')), '2025-03-04T05:06:07Z');
  });
});

describe('IAM identifiers', () => {
  it('parses IAM ARNs with paths', () => {
    assert.deepEqual(parseIamArn('arn:aws:iam::123456789012:role/a/b/R'), { accountId: '123456789012', type: 'role', path: '/a/b/', name: 'R' });
    assert.deepEqual(parseIamArn('arn:aws:iam::aws:policy/AdministratorAccess'), { accountId: 'aws', type: 'policy', path: '/', name: 'AdministratorAccess' });
    assert.equal(parseIamArn('arn:aws:iam::123456789012:root'), undefined);
    assert.equal(parseIamArn('arn:aws:sts::123456789012:assumed-role/R/s'), undefined);
  });

  it('encodes the account in access key ids as AWS does', () => {
    // The example from AWS's key-id format, decoded by the published algorithm.
    assert.equal(accountOfAccessKeyId('ASIAY34FZKBOKMUTVV7A'), '609629065308');
    for (const account of ['000000000000', '123456789012', '999999999999']) {
      assert.equal(accountOfAccessKeyId(newAccessKeyId('AKIA', account)), account);
      assert.equal(accountOfAccessKeyId(newAccessKeyId('ASIA', account)), account);
    }
    assert.equal(accountOfAccessKeyId('test'), undefined);
  });
});
