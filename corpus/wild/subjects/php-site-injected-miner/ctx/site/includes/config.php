<?php
define('SITE_NAME', 'Riverside Neighbours');
define('SITE_MAIL', 'hello@example.org');
