import { createServer } from 'node:http';
import { greet } from '@rw/greeting';

const port = Number(process.env.PORT || 3000);

createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html' }).end(`<h1>${greet('web')}</h1>`);
}).listen(port, '0.0.0.0');
