<?php

/**
 * @file
 * Front controller: every request that is not a static file ends up here
 * (see .htaccess) and is routed to a module's page callback.
 */

define('SITE_ROOT', __DIR__);

require_once SITE_ROOT . '/core/includes/bootstrap.inc';
require_once SITE_ROOT . '/core/lib/Kernel.php';

$kernel = new Site\Core\Kernel(SITE_ROOT, 'sites/default');
$response = $kernel->handle($_SERVER['REQUEST_URI'] ?? '/');
$response->send();
