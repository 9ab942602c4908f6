
COPY bin/docker-php-entrypoint bin/apache2-foreground /usr/local/bin/
