import { expect } from 'chai';
import { compileRoute } from '../../runtime/local-host/match-route.ts';

describe('route templates', () => {
  it('matches literals case-insensitively and extracts parameters', () => {
    const route = compileRoute('tenants/{id}/deliveries/{deliveryId}');
    expect(route.match('Tenants/acme/deliveries/d-1')).to.deep.equal({ id: 'acme', deliveryId: 'd-1' });
    expect(route.match('tenants/acme/deliveries')).to.equal(undefined);
    expect(route.match('tenants/acme/deliveries/d-1/extra')).to.equal(undefined);
    expect(route.match('other/acme/deliveries/d-1')).to.equal(undefined);
  });

  it('treats a trailing optional parameter as absent or present', () => {
    const route = compileRoute('deliveries/{id?}');
    expect(route.match('deliveries')).to.deep.equal({});
    expect(route.match('deliveries/abc')).to.deep.equal({ id: 'abc' });
  });

  it('applies constraints and decodes percent-encoding', () => {
    const route = compileRoute('installations/{id:int}');
    expect(route.match('installations/42')).to.deep.equal({ id: '42' });
    expect(route.match('installations/abc')).to.equal(undefined);
    expect(compileRoute('names/{name}').match('names/a%20b')).to.deep.equal({ name: 'a b' });
    expect(compileRoute('names/{name}').match('names/%E0%A4%A')).to.equal(undefined);
  });

  it('collects the rest of the path into a catch-all parameter', () => {
    expect(compileRoute('files/{*path}').match('files/a/b/c.txt')).to.deep.equal({ path: 'a/b/c.txt' });
  });

  it('rejects templates it cannot read', () => {
    expect(() => compileRoute('x/{id:nosuch}')).to.throw(/unknown route constraint/);
    expect(() => compileRoute('x/pre{id}')).to.throw(/unsupported route segment/);
  });
});
