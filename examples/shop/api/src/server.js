/* global fetch */ // Node 20's built-in fetch
const express = require('express');
const { Pool } = require('pg');
const { Queue } = require('bullmq');
const IORedis = require('ioredis');
const { validateOrder } = require('@shop/shared');

const db = new Pool({ connectionString: process.env.DATABASE_URL });
const emails = new Queue('emails', { connection: new IORedis(process.env.REDIS_URL, { maxRetriesPerRequest: null }) });
const usersUrl = process.env.USERS_URL;
const ordersUrl = process.env.ORDERS_URL;

const app = express();
app.use(express.json());

app.get('/healthz', (_req, res) => res.json({ ok: true }));

app.get('/products', async (_req, res) => {
  const { rows } = await db.query('SELECT id, name, price_cents AS "priceCents" FROM products ORDER BY name');
  res.json(rows);
});

app.post('/orders', async (req, res) => {
  const problems = validateOrder(req.body);
  if (problems.length) return res.status(400).json({ problems });
  const user = await fetch(`${usersUrl}/users/${req.body.userId}`).then((r) => r.json());
  const order = await fetch(`${ordersUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(req.body),
  }).then((r) => r.json());
  await emails.add('order-confirmation', { to: user.email, orderId: order.id });
  res.status(201).json(order);
});

const port = Number(process.env.PORT) || 3000;
app.listen(port, () => console.log(`api listening on ${port}`));
