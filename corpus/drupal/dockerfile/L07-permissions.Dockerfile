
# Serve web/ as the document root; Drupal writes to sites/*/files.
RUN set -eu; \
    rm -rf /var/www/html; \
    ln -s /opt/drupal/web /var/www/html; \
    mkdir -p web/sites/default/files; \
    chown -R www-data:www-data web/sites web/modules web/themes
