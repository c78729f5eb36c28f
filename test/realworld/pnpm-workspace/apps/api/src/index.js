import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { greet } from '@rw/greeting';

const app = new Hono();

app.get('/', (c) => c.text(greet('api')));

serve({ fetch: app.fetch, port: Number(process.env.PORT) || 3000 }, (info) => {
  console.log(`Server is running on http://localhost:${info.port}`);
});
