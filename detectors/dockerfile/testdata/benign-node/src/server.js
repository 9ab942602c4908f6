const express = require('express');
const app = express();
app.get('/healthz', (req, res) => res.send('ok'));
app.get('/', (req, res) => res.send('hello'));
app.listen(process.env.PORT || 8080);
