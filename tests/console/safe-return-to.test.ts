import { expect } from 'chai';
import { safeReturnTo } from '../../runtime/console/safe-return-to.ts';

describe('console: return_to after sign-in', () => {
  const publicUrl = 'https://zekt.example';

  it('keeps a path on Zekt\'s own origin, with its query', () => {
    expect(safeReturnTo('/events', publicUrl)).to.equal('/events');
    expect(safeReturnTo('/api/github/setup?installation_id=7&setup_action=install', publicUrl)).to.equal('/api/github/setup?installation_id=7&setup_action=install');
  });

  for (const evil of [
    'https://evil.example/',
    '//evil.example/steal',
    '/\\evil.example',
    '\\\\evil.example',
    'javascript:alert(1)',
    '/%0d%0aSet-Cookie:x=y'.replace('%0d%0a', '\r\n'),
    'events',
    '',
    `/${'a'.repeat(2000)}`,
  ]) {
    it(`refuses ${JSON.stringify(evil.slice(0, 40))}`, () => {
      expect(safeReturnTo(evil, publicUrl)).to.equal(undefined);
    });
  }
});
