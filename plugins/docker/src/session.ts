/**
 * A BuildKit session over the Engine API (`POST /session`, upgraded to h2c) serving
 * build secrets from memory, so `RUN --mount=type=secret,id=X` works through dockerode
 * without the docker CLI. dockerode's own session only serves registry auth and no
 * health check, which BuildKit polls every second and drops the session without.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type Dockerode from 'dockerode';
import protobuf from 'protobufjs';
import { DIFF_COPY, fileSyncService, type SyncedDir } from './filesync.js';

const root = protobuf.Root.fromJSON({
  nested: {
    secrets: {
      nested: {
        GetSecretRequest: {
          fields: {
            ID: { type: 'string', id: 1 },
            annotations: { keyType: 'string', type: 'string', id: 2 } as protobuf.IField,
          },
        },
        GetSecretResponse: { fields: { data: { type: 'bytes', id: 1 } } },
      },
    },
    health: {
      nested: {
        HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
        HealthCheckResponse: { fields: { status: { type: 'int32', id: 1 } } },
      },
    },
  },
});
const GetSecretRequest = root.lookupType('secrets.GetSecretRequest');
const GetSecretResponse = root.lookupType('secrets.GetSecretResponse');
const HealthCheckRequest = root.lookupType('health.HealthCheckRequest');
const HealthCheckResponse = root.lookupType('health.HealthCheckResponse');

function unary(
  path: string,
  req: protobuf.Type,
  res: protobuf.Type,
): grpc.MethodDefinition<object, object> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: object) => Buffer.from(req.encode(req.fromObject(v)).finish()),
    requestDeserialize: (b: Buffer) => req.toObject(req.decode(b)),
    responseSerialize: (v: object) => Buffer.from(res.encode(res.fromObject(v)).finish()),
    responseDeserialize: (b: Buffer) => res.toObject(res.decode(b)),
  };
}

const GET_SECRET = '/moby.buildkit.secrets.v1.Secrets/GetSecret';
const HEALTH_CHECK = '/grpc.health.v1.Health/Check';
const SecretsService: grpc.ServiceDefinition = {
  GetSecret: unary(GET_SECRET, GetSecretRequest, GetSecretResponse),
};
const HealthService: grpc.ServiceDefinition = {
  Check: unary(HEALTH_CHECK, HealthCheckRequest, HealthCheckResponse),
};

/** An open session; pass `id` as the build's `session` parameter, `close()` after the build. */
export interface BuildSession {
  id: string;
  close(): void;
}

/**
 * Opens a session serving `secrets` (id -> value). A secret a build asks for but that is
 * not in the map fails that build step with NOT_FOUND, as the docker CLI does.
 */
export function openSession(
  docker: Dockerode,
  secrets: ReadonlyMap<string, string>,
  dirs?: ReadonlyMap<string, SyncedDir>,
  sharedKey = '',
): Promise<BuildSession> {
  const id = randomUUID();
  const methods = [GET_SECRET, HEALTH_CHECK, ...(dirs ? [DIFF_COPY] : [])];
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        method: 'POST',
        path: '/session',
        hijack: true,
        headers: {
          Upgrade: 'h2c',
          'X-Docker-Expose-Session-Uuid': id,
          'X-Docker-Expose-Session-Name': 'gatehouse',
          'X-Docker-Expose-Session-Sharedkey': sharedKey,
          'X-Docker-Expose-Session-Grpc-Method': methods,
        },
        statusCodes: { 101: true, 200: true, 500: 'server error' },
      } as never,
      (err: unknown, socket: unknown) => {
        if (err) return reject(err);
        const server = new grpc.Server();
        server.addService(HealthService, {
          Check: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { status: 1 }),
        });
        server.addService(SecretsService, {
          GetSecret: (
            call: grpc.ServerUnaryCall<{ ID?: string }, object>,
            cb: grpc.sendUnaryData<object>,
          ) => {
            const value = secrets.get(call.request.ID ?? '');
            if (value === undefined) {
              cb(
                {
                  code: grpc.status.NOT_FOUND,
                  details: `secret ${call.request.ID ?? ''} not provided`,
                },
                null,
              );
            } else {
              cb(null, { data: Buffer.from(value, 'utf8') });
            }
          },
        });
        if (dirs) {
          const sync = fileSyncService(dirs);
          server.addService(sync.definition, sync.implementation);
        }
        const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
        injector.injectConnection(socket as Duplex);
        resolve({
          id,
          close() {
            server.forceShutdown();
            (socket as Duplex).destroy();
          },
        });
      },
    );
  });
}
