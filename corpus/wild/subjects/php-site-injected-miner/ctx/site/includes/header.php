<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title><?= SITE_NAME ?></title>
</head>
<body>
<header><h1><?= SITE_NAME ?></h1><nav><a href="/">Events</a> | <a href="/contact.php">Contact</a></nav></header>
