<?php
function render_header(string $title): void
{
    $site = htmlspecialchars(SITE_NAME);
    $t = htmlspecialchars($title);
    echo "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
    echo "<title>$t - $site</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body>\n";
    echo "<header><h1>$site</h1><nav><a href=\"/\">Home</a> <a href=\"?page=hours\">Hours</a> <a href=\"?page=contact\">Contact</a></nav></header>\n";
    echo "<main><h2>$t</h2>\n";
}

function render_footer(): void
{
    echo "</main><footer>&copy; " . date('Y') . ' ' . htmlspecialchars(SITE_NAME) . "</footer></body></html>\n";
}
