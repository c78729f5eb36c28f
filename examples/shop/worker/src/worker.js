const { Worker } = require('bullmq');
const IORedis = require('ioredis');
const nodemailer = require('nodemailer');
const { orderSubject } = require('@shop/shared');

const connection = new IORedis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const mailer = nodemailer.createTransport({ host: process.env.SMTP_HOST, port: 25 });

const worker = new Worker('emails', async (job) => {
  await mailer.sendMail({ from: 'shop@example.com', to: job.data.to, subject: orderSubject(job.data.orderId), text: 'Thank you!' });
}, { connection });

worker.on('failed', (job, err) => console.error(`email ${job?.id} failed: ${err.message}`));
