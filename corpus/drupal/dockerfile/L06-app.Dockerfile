
COPY app/ ./
