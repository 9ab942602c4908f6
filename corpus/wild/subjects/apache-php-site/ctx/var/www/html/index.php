<?php
declare(strict_types=1);

require __DIR__ . '/inc/config.php';
require __DIR__ . '/inc/layout.php';

$page = $_GET['page'] ?? 'home';
$pages = [
    'home'    => ['title' => 'Welcome', 'body' => 'Riverside Bakery has baked sourdough in the old mill since 1987.'],
    'hours'   => ['title' => 'Opening hours', 'body' => 'Tuesday to Saturday 7:00-18:00, Sunday 8:00-13:00.'],
    'contact' => ['title' => 'Contact', 'body' => ''],
];
if (!isset($pages[$page])) {
    http_response_code(404);
    $page = 'home';
}

render_header($pages[$page]['title']);
if ($page === 'contact') {
    include __DIR__ . '/contact.php';
} else {
    echo '<p>' . htmlspecialchars($pages[$page]['body']) . "</p>\n";
}
render_footer();
