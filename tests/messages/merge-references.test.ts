import { expect } from 'chai';
import { mergeReferences, type MessageReference } from '../../runtime/tenant/message-reference.ts';

const ref = (id: string, name: string | undefined, expiresAt: string): MessageReference => ({ id, ...(name ? { name } : {}), url: `https://t/api/messages/${id}`, sha256: '0'.repeat(64), size: 2, expiresAt });

describe("messages: an event's references after a late message", () => {
  const early = ref('a', 'release', '2030-01-08T00:00:00.000Z');
  const unnamed = ref('b', undefined, '2030-01-08T00:00:01.000Z');

  it('adds a message of a new name, keeping the order by name', () => {
    expect(mergeReferences([early], [unnamed]).map((r) => r.id)).to.deep.equal(['b', 'a']);
  });

  it('replaces a name with its later post, never with an earlier one', () => {
    const later = ref('c', 'release', '2030-01-08T00:00:05.000Z');
    expect(mergeReferences([early], [later]).map((r) => r.id)).to.deep.equal(['c']);
    expect(mergeReferences([later], [early]).map((r) => r.id)).to.deep.equal(['c']);
  });

  it('answers the same list when nothing is new (the caller writes nothing)', () => {
    const current = [unnamed, early];
    expect(mergeReferences(current, [early])).to.equal(current);
  });
});
