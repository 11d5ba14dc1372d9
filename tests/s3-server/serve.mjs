// An S3-compatible server for the tests: s3rver on 127.0.0.1:<port>, objects under <directory>, the bucket
// <bucket> created, credentials S3RVER / S3RVER (s3rver's own). Prints "listening" once it serves.
//   node serve.mjs <port> <directory> <bucket>
import S3rver from 's3rver';

const [port, directory, bucket] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true, configureBuckets: [{ name: bucket }] });
await server.run();
console.log('listening');
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
