// Runs the real signing code of infra/apps_script/Code.gs under node, with node's crypto standing in
// for Utilities.computeHmacSha256Signature (which returns signed bytes, as Apps Script does).
const fs = require('fs');
const vm = require('vm');
const crypto = require('crypto');

const [codePath, vectorPath] = process.argv.slice(2);
const context = { console };
vm.createContext(context);
vm.runInContext(fs.readFileSync(codePath, 'utf8'), context, { filename: codePath });
const v = JSON.parse(fs.readFileSync(vectorPath, 'utf8'));
const signedBytes = (message, secret) =>
  Array.from(crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(message, 'utf8')).digest())
    .map((b) => (b > 127 ? b - 256 : b));
const header = context.huizongSignature(v.secret, v.timestamp, v.body, signedBytes);
const ascii = context.huizongAsciiJson({ name: '武进', n: 1 });
process.stdout.write(JSON.stringify({ header, ascii }));
