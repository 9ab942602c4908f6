
WORKDIR /opt/drupal
