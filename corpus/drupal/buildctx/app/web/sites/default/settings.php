<?php

/**
 * @file
 * Site configuration. Database credentials come from the environment so the
 * same image runs against any MySQL/MariaDB server.
 */

$databases['default']['default'] = [
  'driver' => 'mysql',
  'database' => getenv('DRUPAL_DB_NAME') ?: 'drupal',
  'username' => getenv('DRUPAL_DB_USER') ?: 'drupal',
  'password' => getenv('DRUPAL_DB_PASSWORD') ?: '',
  'host' => getenv('DRUPAL_DB_HOST') ?: 'db',
  'port' => getenv('DRUPAL_DB_PORT') ?: '3306',
  'prefix' => '',
  'collation' => 'utf8mb4_general_ci',
];

$settings['site_name'] = 'Drupal';
$settings['hash_salt'] = getenv('DRUPAL_HASH_SALT') ?: 'change-me-in-production';
$settings['file_public_path'] = 'sites/default/files';
$settings['trusted_host_patterns'] = ['^localhost$', '^127\.0\.0\.1$'];
$settings['update_free_access'] = FALSE;
$settings['modules'] = ['hello', 'sitestatus'];

if (file_exists(__DIR__ . '/settings.local.php')) {
  include __DIR__ . '/settings.local.php';
}
