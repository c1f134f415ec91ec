import type { FileObject, StoredFile } from './batchTypes';
import { ClientError, page, randomId, readBody, requestUrl, seconds, send, type RouteTable } from './http';
import type { StubState } from './state';

export function storeFile(state: StubState, filename: string, purpose: string, content: Buffer): FileObject {
  const meta: FileObject = {
    id: randomId('file-'),
    object: 'file',
    bytes: content.length,
    created_at: seconds(Date.now()),
    filename,
    purpose,
    status: 'processed',
  };
  state.files.set(meta.id, { meta, content });
  return meta;
}

function fileOr404(state: StubState, id: string): StoredFile {
  const file = state.files.get(id);
  if (!file) throw new ClientError(404, `No such File object: ${id}`, 'id');
  return file;
}

/** The Files API, in memory: multipart upload, list by purpose, metadata, content, delete. */
export function fileRoutes(state: StubState): RouteTable {
  return {
    'POST /v1/files': state.idempotent('files', async (req) => {
      const raw = await readBody(req);
      let form: FormData;
      try {
        form = await new Request(`http://stub${req.url ?? ''}`, {
          method: 'POST',
          headers: { 'content-type': req.headers['content-type'] ?? '' },
          body: raw,
        }).formData();
      } catch {
        throw new ClientError(400, 'Expected a multipart/form-data body with file and purpose');
      }
      const file = form.get('file');
      const purpose = form.get('purpose');
      if (!(file instanceof Blob)) throw new ClientError(400, 'file is required', 'file');
      if (typeof purpose !== 'string' || purpose === '')
        throw new ClientError(400, 'purpose is required', 'purpose');
      const filename = file instanceof File && file.name ? file.name : 'upload';
      state.batchStats.filesCreated += 1;
      return storeFile(state, filename, purpose, Buffer.from(await file.arrayBuffer()));
    }),
    'GET /v1/files': async (req, res) => {
      const purpose = requestUrl(req).searchParams.get('purpose');
      const all = [...state.files.values()].map((f) => f.meta).reverse();
      send(res, 200, page(purpose ? all.filter((f) => f.purpose === purpose) : all, requestUrl(req)));
    },
    'GET /v1/files/:id': async (_req, res, { id }) => send(res, 200, fileOr404(state, id!).meta),
    'GET /v1/files/:id/content': async (_req, res, { id }) => {
      const { content } = fileOr404(state, id!);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': content.length });
      res.end(content);
    },
    'DELETE /v1/files/:id': async (_req, res, { id }) => {
      fileOr404(state, id!);
      state.files.delete(id!);
      state.batchStats.filesDeleted += 1;
      send(res, 200, { id, object: 'file', deleted: true });
    },
  };
}
