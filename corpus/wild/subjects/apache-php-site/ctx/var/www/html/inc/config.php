<?php
define('SITE_NAME', getenv('SITE_NAME') ?: 'Riverside Bakery');
define('SITE_SPOOL', getenv('SITE_SPOOL') ?: sys_get_temp_dir());
date_default_timezone_set(getenv('TZ') ?: 'UTC');
