/**
 * The production Temporal connection (issue #10): mutual TLS with certificates from files, and an
 * API key sent as a bearer token. The suite's dev server speaks plain gRPC, so each test puts a
 * real terminator in front of it: a TLS server that demands a client certificate signed by the
 * test's own CA (keys made by `openssl` at test time; nothing committed), and an HTTP/2 proxy that
 * lets through only requests bearing the API key.
 */
import '../support/quiet-temporal';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '../../src/config';
import { connectTemporal } from '../../src/temporal/connect';

const folder = mkdtempSync(path.join(os.tmpdir(), 'refundflow-tls-'));
const file = (name: string) => path.join(folder, name);
const upstream = () => {
  const [host, port] = process.env.TEST_TEMPORAL_ADDRESS!.split(':');
  return { host: host!, port: Number(port) };
};
const servers: Array<{ close(): void }> = [];

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: folder, stdio: 'pipe' });
}

/** A CA, a server certificate for `localhost` and a client certificate, both signed by the CA. */
beforeAll(() => {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=refundflow test CA');
  for (const [name, subject, extension] of [
    ['server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ['client', '/CN=refundflow-worker', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(file(`${name}.ext`), `${extension}\n`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
});

afterAll(() => {
  for (const server of servers) server.close();
  rmSync(folder, { recursive: true, force: true });
});

/** Mutual TLS in front of the dev server: no client certificate signed by our CA, no connection. */
async function tlsTerminator(): Promise<number> {
  const server = tls.createServer(
    { key: readFileSync(file('server.key')), cert: readFileSync(file('server.pem')), ca: readFileSync(file('ca.pem')), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (socket) => {
      const { host, port } = upstream();
      const plain = net.connect(port, host);
      socket.pipe(plain).pipe(socket);
      socket.on('error', () => plain.destroy());
      plain.on('error', () => socket.destroy());
    },
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** An HTTP/2 (gRPC) proxy that passes only requests carrying `authorization: Bearer <key>`; counts what it refused. */
async function apiKeyGate(key: string): Promise<{ port: number; refused: () => number; passed: () => number }> {
  const { host, port } = upstream();
  const target = http2.connect(`http://${host}:${port}`);
  let refused = 0;
  let passed = 0;
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    if (headers.authorization !== `Bearer ${key}`) {
      refused += 1;
      // gRPC's UNAUTHENTICATED, as Temporal Cloud answers a wrong key.
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'bad api key' }, { endStream: true });
      return;
    }
    passed += 1;
    const { ':authority': _a, ':scheme': _s, authorization: _k, ...forwarded } = headers;
    const request = target.request(forwarded, { waitForTrailers: false });
    request.on('response', (responseHeaders) => stream.respond(responseHeaders, { waitForTrailers: true }));
    request.on('trailers', (trailers) => stream.once('wantTrailers', () => stream.sendTrailers(trailers)));
    request.on('data', (chunk) => stream.write(chunk));
    request.on('end', () => stream.end());
    stream.on('data', (chunk) => request.write(chunk));
    stream.on('end', () => request.end());
    request.on('error', () => stream.destroy());
    stream.on('error', () => request.destroy());
  });
  servers.push({ close: () => (server.close(), target.close()) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, refused: () => refused, passed: () => passed };
}

it('connects over mutual TLS with the certificates named by *_FILE settings, and not without a client certificate', async () => {
  const port = await tlsTerminator();
  const config = loadConfig({
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_TLS_CERT_FILE: file('client.pem'),
    TEMPORAL_TLS_KEY_FILE: file('client.key'),
    TEMPORAL_TLS_CA_FILE: file('ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });
  expect(config.temporalSecurity.tls?.clientCert?.crt).toBe(readFileSync(file('client.pem'), 'utf8').replace(/\n$/, ''));
  const { connection, client } = await connectTemporal(config.temporalAddress!, config.temporalNamespace, config.temporalSecurity, 10_000);
  try {
    const info = await client.workflowService.getSystemInfo({});
    expect(info.serverVersion).toBeTruthy();
  } finally {
    await connection.close();
  }

  const withoutCertificate = loadConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_TLS_CA_FILE: file('ca.pem'), TEMPORAL_TLS_SERVER_NAME: 'localhost' });
  await expect(connectTemporal(withoutCertificate.temporalAddress!, 'default', withoutCertificate.temporalSecurity, 2_000)).rejects.toThrow(/not ready/);
}, 60_000);

it('sends the API key with every call (Temporal Cloud’s way), and a wrong key gets nowhere', async () => {
  const gate = await apiKeyGate('cloud-key-123');
  const config = loadConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${gate.port}`, TEMPORAL_API_KEY: 'cloud-key-123', TEMPORAL_TLS: 'false' });
  const { connection, client } = await connectTemporal(config.temporalAddress!, config.temporalNamespace, config.temporalSecurity, 10_000);
  try {
    await client.workflowService.getSystemInfo({});
  } finally {
    await connection.close();
  }
  expect(gate.passed()).toBeGreaterThan(0);
  expect(gate.refused()).toBe(0);

  const wrong = loadConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${gate.port}`, TEMPORAL_API_KEY: 'guessed', TEMPORAL_TLS: 'false' });
  await expect(connectTemporal(wrong.temporalAddress!, 'default', wrong.temporalSecurity, 2_000)).rejects.toThrow(/not ready/);
  expect(gate.refused()).toBeGreaterThan(0);
}, 60_000);
