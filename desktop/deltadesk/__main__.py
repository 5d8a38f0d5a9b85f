from deltadesk.app import main

raise SystemExit(main())
