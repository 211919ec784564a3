import { expect } from 'chai';
import azureFunctions from '@azure/functions';
import type { HttpRequest as HttpRequestType } from '@azure/functions';
import { createBufferedHttpRequest } from '../../runtime/local-host/buffered-request.ts';

const { HttpRequest } = azureFunctions;

/** The same request twice: as the local host builds it, and as the library builds it itself. */
function both(body: string, method = 'POST', contentType = 'application/json'): [HttpRequestType, HttpRequestType] {
  const url = 'http://localhost:7071/api/github/webhooks?a=1&b=two';
  const headerPairs: [string, string][] = [
    ['Content-Type', contentType],
    ['X-GitHub-Event', 'workflow_run'],
    ['Accept', 'text/plain'],
    ['Accept', 'application/json'],
  ];
  const headers = new Headers();
  for (const [name, value] of headerPairs) headers.append(name, value);
  const local = createBufferedHttpRequest({
    method,
    url,
    headers,
    query: new URL(url).searchParams,
    params: { id: '7' },
    body: Buffer.from(body),
  });
  const library = new HttpRequest({
    method,
    url,
    headers: Object.fromEntries(headers),
    query: { a: '1', b: 'two' },
    params: { id: '7' },
    ...(body ? { body: { bytes: Buffer.from(body) } } : {}),
  });
  return [local, library];
}

describe('local host: the request over bytes already read', () => {
  it('is the library HttpRequest, with the same url, method, headers, query and params', () => {
    const [local, library] = both('{"a":1}');
    expect(local).to.be.instanceOf(HttpRequest);
    expect(local.url).to.equal(library.url);
    expect(local.method).to.equal(library.method);
    expect([...local.headers]).to.deep.equal([...library.headers]);
    expect(local.headers.get('accept')).to.equal('text/plain, application/json');
    expect(Object.fromEntries(local.query)).to.deep.equal(Object.fromEntries(library.query));
    expect(local.params).to.deep.equal({ id: '7' });
  });

  it('reads the body as text, JSON and bytes exactly as the library does', async () => {
    const body = '{"emoji":"✓","n":[1,2,3]}';
    const [t1, t2] = both(body);
    expect(await t1.text()).to.equal(await t2.text());
    const [j1, j2] = both(body);
    expect(await j1.json()).to.deep.equal(await j2.json());
    const [b1, b2] = both(body);
    const [ab1, ab2] = [await b1.arrayBuffer(), await b2.arrayBuffer()];
    expect(Buffer.from(ab1).equals(Buffer.from(ab2))).to.equal(true);
    expect(ab1.byteLength).to.equal(Buffer.byteLength(body));
  });

  it('allows one read of the body, like fetch: a second read is a TypeError', async () => {
    const [local, library] = both('{}');
    expect(local.bodyUsed).to.equal(false);
    await local.text();
    await library.text();
    expect(local.bodyUsed).to.equal(library.bodyUsed).and.to.equal(true);
    const second = await local.arrayBuffer().then(() => undefined, (err: unknown) => err);
    const libSecond = await library.arrayBuffer().then(() => undefined, (err: unknown) => err);
    expect(second).to.be.instanceOf(TypeError);
    expect(libSecond).to.be.instanceOf(TypeError);
  });

  it('gives the returned bytes to the caller: changing them changes nothing for the host', async () => {
    const source = Buffer.from('{"k":"v"}');
    const headers = new Headers({ 'content-type': 'application/json' });
    const request = createBufferedHttpRequest({ method: 'POST', url: 'http://h/api/x', headers, query: new URLSearchParams(), params: {}, body: source });
    new Uint8Array(await request.arrayBuffer()).fill(0);
    expect(source.toString()).to.equal('{"k":"v"}');
  });

  it('serves the rarer reads from a real fetch Request: stream, form data, blob, clone', async () => {
    const [streamed] = both('{"s":true}');
    expect(await new Response(streamed.body).text()).to.equal('{"s":true}');

    const [form] = both('a=1&b=x', 'POST', 'application/x-www-form-urlencoded');
    const data = await form.formData();
    expect(data.get('a')).to.equal('1');
    expect(data.get('b')).to.equal('x');

    const [blob] = both('{"b":1}');
    expect(await (await blob.blob()).text()).to.equal('{"b":1}');

    const [original] = both('{"c":1}');
    const copy = original.clone();
    expect(await copy.text()).to.equal('{"c":1}');
    expect(await original.text()).to.equal('{"c":1}');
  });

  it('has no body for a GET, like the library', async () => {
    const [local, library] = both('', 'GET');
    expect(await local.text()).to.equal(await library.text()).and.to.equal('');
    expect(local.body).to.equal(null);
    expect(library.body).to.equal(null);
  });

  it('does not offer a body already read through its stream or a clone either', async () => {
    const [local] = both('{"once":true}');
    await local.json();
    expect(() => local.clone()).to.throw(TypeError);
    expect(() => new Response(local.body)).to.throw(TypeError);
  });
});
