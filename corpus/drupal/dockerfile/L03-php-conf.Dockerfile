
# Recommended opcache and PHP settings for Drupal.
COPY conf/php/ /etc/php/8.2/apache2/conf.d/
